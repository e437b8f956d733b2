import type { ExecutionContext } from '@nestjs/common';

// Nest's own metadata keys and parameter types (ROUTE_ARGS_METADATA and SSE_METADATA of
// @nestjs/common/constants, RouteParamtypes.RESPONSE and NEXT): copied, because @nestjs/common exports them
// only from internal files, which Nest 12 is moving. test/e2e/http-cache.e2e.spec.ts checks them against
// the Nest it runs on.
/** @internal */
export const NEST_ROUTE_ARGS_METADATA = '__routeArguments__';
/** @internal */
export const NEST_SSE_METADATA = '__sse__';
/** @internal */
export const NEST_RESPONSE_PARAM = 1;
/** @internal */
export const NEST_NEXT_PARAM = 2;

const known = new WeakMap<object, boolean>();

/**
 * True when the route sends its response itself rather than returning it: its handler takes `@Res()` (with
 * or without `passthrough`) or `@Next()`, or it is an `@Sse()` route. What such a handler writes (headers,
 * cookies, a status, a stream) cannot be told from what it returns, so it is never cached. Looked up once
 * per handler.
 */
export function sendsOwnResponse(context: ExecutionContext): boolean {
  const handler = context.getHandler();
  let answer = known.get(handler);
  if (answer === undefined) {
    answer = Reflect.getMetadata(NEST_SSE_METADATA, handler) === true || takesResponse(context.getClass(), handler);
    known.set(handler, answer);
  }
  return answer;
}

function takesResponse(controller: object, handler: object): boolean {
  const name = methodNameOf(controller, handler);
  if (name === undefined) return false;
  const params: Record<string, unknown> | undefined = Reflect.getMetadata(NEST_ROUTE_ARGS_METADATA, controller, name);
  if (params === undefined) return false;
  // Keys are "<param type>:<index>" (custom decorators have a non-numeric type).
  return Object.keys(params).some((key) => {
    const type = Number(key.split(':')[0]);
    return type === NEST_RESPONSE_PARAM || type === NEST_NEXT_PARAM;
  });
}

/** The name of the method whose function `handler` is, on the controller's prototype chain. */
function methodNameOf(controller: object, handler: object): string | undefined {
  // A wrapped method (a decorator that replaced it) keeps its property name, not always its function name.
  for (let proto: object | null = (controller as { prototype?: object }).prototype ?? null; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (Object.getOwnPropertyDescriptor(proto, name)?.value === handler) return name;
    }
  }
  const name = (handler as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
