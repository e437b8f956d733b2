import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { decodeEnvelope, encodeEnvelope } from '../../lib/core/envelope';
import { CacheSerializationError, LayeredCacheError } from '../../lib/core/errors';
import { JsonSerializer, type Serializer } from '../../lib/core/serializer';
import {
  assertCachedType,
  type CachedClass,
  type CachedType,
  type CachedTypeFor,
  prepareForCache,
  type ReshapedClassNotice,
  reviveFromCache,
  ValueCodec,
} from '../../lib/core/value-codec';

const serializer = new JsonSerializer();

/** What a read from the shared layer answers for a value the engine prepared. */
function throughL2(value: unknown, type?: CachedType): unknown {
  const { payload } = prepareForCache(value, serializer, { type });
  expect(payload).toBe(serializer.serialize(value));
  const text = encodeEnvelope(createCacheEntry(value, 1000, 1_700_000_000_000));
  return reviveFromCache(decodeEnvelope(text).value, type);
}

/** What a read from L1 answers: the engine revives L1 hits with the declared type too. */
function throughL1(value: unknown, type?: CachedType): unknown {
  return reviveFromCache(prepareForCache(value, serializer, { type }).l1Value, type);
}

class User {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly createdAt: Date,
  ) {}
  get label(): string {
    return `${this.id}:${this.name}`;
  }
  greet(): string {
    return `hello ${this.name}`;
  }
}

class Address {
  constructor(readonly city: string) {}
}

class Customer {
  constructor(
    readonly id: number,
    readonly address: Address,
  ) {}
}

describe('prepareForCache', () => {
  it('returns the serializer text and keeps plain data, Dates and binary values as they are for L1', () => {
    const value = { id: 1, tags: ['a'], at: new Date(3), avatar: Buffer.from('x'), raw: new Uint8Array([1]), none: null };
    const prepared = prepareForCache(value, serializer);
    expect(prepared.l1Value).toBe(value);
    expect(prepared.payload).toBe(serializer.serialize(value));
  });

  it('calls serialize of a JsonSerializer subclass for plain data too', () => {
    class Counting extends JsonSerializer {
      calls = 0;
      override serialize(value: unknown): string {
        this.calls++;
        return super.serialize(value);
      }
    }
    const counting = new Counting();
    const value = { id: 1 };
    expect(prepareForCache(value, counting)).toEqual({ payload: '{"id":1}', l1Value: value });
    expect(counting.calls).toBe(1);
  });

  it.each([
    ['a string', 'text'],
    ['a number', 4],
    ['null', null],
    ['an object without a prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  ])('keeps %s as it is', (_label, value) => {
    expect(prepareForCache(value, serializer).l1Value).toBe(value);
  });

  it.each([
    ['a BigInt', { id: 1n }, 'value.id is a BigInt'],
    ['a class instance with only #private state', { account: new (class Account { #cents = 1; cents(): number { return this.#cents; } })() }, 'value.account is an instance of Account'],
    ['a circular reference', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })(), 'value.self is a circular reference'],
  ])('throws CacheSerializationError for %s, naming the path', (_label, value, expected) => {
    const onReshapedClass = vi.fn();
    expect(() => prepareForCache(value, serializer, { onReshapedClass })).toThrow(CacheSerializationError);
    expect(() => prepareForCache(value, serializer)).toThrow(expected);
    expect(onReshapedClass).not.toHaveBeenCalled();
  });

  it('keeps an untyped class instance in L1 as the plain form L2 gives back, and reports its class', () => {
    const user = new User(1, 'ann', new Date(5));
    const onReshapedClass = vi.fn();
    const { l1Value, payload } = prepareForCache(user, serializer, { onReshapedClass });
    expect(Object.getPrototypeOf(l1Value)).toBe(Object.prototype);
    expect(l1Value).toEqual(serializer.deserialize(payload));
    expect((l1Value as { createdAt: unknown }).createdAt).toBeInstanceOf(Date);
    expect(onReshapedClass).toHaveBeenCalledTimes(1);
    expect(onReshapedClass).toHaveBeenCalledWith(User, 'User');
  });

  it('reports each class found once per call, nested ones included', () => {
    const onReshapedClass = vi.fn();
    const customers = [new Customer(1, new Address('Oslo')), new Customer(2, new Address('Rome'))];
    prepareForCache({ customers }, serializer, { onReshapedClass });
    expect(onReshapedClass.mock.calls.map((call) => call[1])).toEqual(['Customer', 'Address']);
  });

  it('keeps what toJSON returns in L1, as L2 does', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    const onReshapedClass = vi.fn();
    expect(prepareForCache({ price: new Money(1250) }, serializer, { onReshapedClass }).l1Value).toEqual({ price: '12.5 EUR' });
    expect(onReshapedClass).toHaveBeenCalledWith(Money, 'Money');
  });

  it('keeps an instance of the declared type itself in L1, unreported', () => {
    const user = new User(1, 'ann', new Date(5));
    const onReshapedClass = vi.fn();
    expect(prepareForCache(user, serializer, { type: User, onReshapedClass }).l1Value).toBe(user);
    const users = [user, new User(2, 'bob', new Date(6))];
    expect(prepareForCache(users, serializer, { type: [User], onReshapedClass }).l1Value).toBe(users);
    expect(prepareForCache(null, serializer, { type: User, onReshapedClass }).l1Value).toBeNull();
    expect(onReshapedClass).not.toHaveBeenCalled();
  });

  it('with a declared type, keeps nested instances of other classes in L1 as the plain form L2 gives back', () => {
    const customer = new Customer(1, new Address('Oslo'));
    const onReshapedClass = vi.fn();
    const { l1Value } = prepareForCache(customer, serializer, { type: Customer, onReshapedClass });
    expect(l1Value).toBeInstanceOf(Customer);
    expect(Object.getPrototypeOf((l1Value as Customer).address)).toBe(Object.prototype);
    expect(onReshapedClass.mock.calls.map((call) => call[1])).toEqual(['Address']);
  });

  it('with a declared type, keeps a subclass instance in L1 as the declared class, as L2 gives it back', () => {
    class Admin extends User {
      readonly role = 'admin';
    }
    const onReshapedClass = vi.fn();
    const { l1Value } = prepareForCache([new Admin(1, 'root', new Date(0))], serializer, { type: [User], onReshapedClass });
    expect(Object.getPrototypeOf((l1Value as unknown[])[0])).toBe(User.prototype);
    expect(onReshapedClass).toHaveBeenCalledWith(Admin, 'Admin');
  });

  it('with another serializer, keeps Dates and bytes in L1 as that serializer gives them back', () => {
    const plainJson: Serializer = { serialize: (value) => JSON.stringify(value), deserialize: (text) => JSON.parse(text) as unknown };
    const value = { at: new Date(0), bytes: new Uint8Array([1]) };
    const { l1Value, payload } = prepareForCache(value, plainJson);
    expect(l1Value).toStrictEqual(JSON.parse(payload));
    expect((l1Value as { at: unknown }).at).toBe('1970-01-01T00:00:00.000Z');
    const plain = { id: 1, tags: ['a'] };
    expect(prepareForCache(plain, plainJson).l1Value).toBe(plain);
  });

  it('does not report classes that the serializer gives back as themselves', () => {
    // A serializer that keeps Maps (structured clone) but, like every serializer, not user classes.
    const stored = new Map<string, unknown>();
    const cloning: Serializer = {
      serialize: (value) => {
        const id = String(stored.size);
        stored.set(id, structuredClone(value));
        return id;
      },
      deserialize: (text) => structuredClone(stored.get(text)),
    };
    const onReshapedClass = vi.fn();
    const { l1Value } = prepareForCache({ lookup: new Map([['a', 1]]), address: new Address('Oslo') }, cloning, { onReshapedClass });
    expect((l1Value as { lookup: unknown }).lookup).toBeInstanceOf(Map);
    expect(onReshapedClass.mock.calls.map((call) => call[1])).toEqual(['Address']);
  });
});

describe('every layer answers with the same kind', () => {
  const samples: [string, unknown, CachedType | undefined][] = [
    ['plain data with a Date and a Buffer', { a: [1, { b: new Date(9) }], c: Buffer.from('z') }, undefined],
    ['an untyped instance', new User(1, 'ann', new Date(1)), undefined],
    ['untyped instances in an array', [new Customer(1, new Address('x'))], undefined],
    ['a typed instance', new User(1, 'ann', new Date(1)), User],
    ['a typed array of instances', [new User(1, 'ann', new Date(1)), new User(2, 'bob', new Date(2))], [User]],
    ['a typed instance holding another class', new Customer(1, new Address('x')), Customer],
    ['null with a declared type', null, User],
    ['an empty array with a declared type', [], [User]],
  ];

  it.each(samples)('%s', (_label, value, type) => {
    const fromL1 = throughL1(value, type);
    const fromL2 = throughL2(value, type);
    expect(fromL1).toStrictEqual(fromL2);
  });
});

describe('reviveFromCache', () => {
  const original = new User(7, 'eve', new Date('2024-01-01T00:00:00.000Z'));
  const plain = serializer.deserialize(serializer.serialize(original));

  it('makes an instance of the declared class whose getters and methods work', () => {
    const user = reviveFromCache(plain, User) as User;
    expect(user).toBeInstanceOf(User);
    expect(user.label).toBe('7:eve');
    expect(user.greet()).toBe('hello eve');
    expect(user.constructor).toBe(User);
  });

  it('gives it the same own properties in the same order as the original, nested Dates and Buffers kept', () => {
    class File {
      constructor(
        readonly name: string,
        readonly body: Buffer,
        readonly at: Date,
      ) {}
    }
    const file = new File('a.txt', Buffer.from('hi'), new Date(2));
    const back = reviveFromCache(serializer.deserialize(serializer.serialize(file)), File) as File;
    expect(Object.keys(back)).toEqual(Object.keys(file));
    expect(Buffer.isBuffer(back.body)).toBe(true);
    expect(back.body.toString()).toBe('hi');
    expect(back.at).toBeInstanceOf(Date);
    expect(back).toStrictEqual(file);
  });

  it('does not call the constructor', () => {
    const constructed = vi.fn();
    class Strict {
      readonly id: number;
      constructor(id: number) {
        constructed();
        if (typeof id !== 'number') throw new Error('id required');
        this.id = id;
      }
    }
    const back = reviveFromCache({ id: 3 }, Strict) as Strict;
    expect(back).toBeInstanceOf(Strict);
    expect(back.id).toBe(3);
    expect(constructed).not.toHaveBeenCalled();
  });

  it('does not change the object it was given (an L1 entry may hold it)', () => {
    const stored = { id: 1, name: 'ann', createdAt: new Date(0) };
    const back = reviveFromCache(stored, User);
    expect(back).not.toBe(stored);
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
  });

  it('defines stored properties as own ones, without calling setters of the class or __proto__', () => {
    const setter = vi.fn();
    class Named {
      set name(value: string) {
        setter(value);
      }
    }
    const back = reviveFromCache(JSON.parse('{"name":"x","__proto__":{"polluted":true}}'), Named) as Record<string, unknown>;
    expect(setter).not.toHaveBeenCalled();
    expect(Object.getOwnPropertyDescriptor(back, 'name')?.value).toBe('x');
    expect(Object.getPrototypeOf(back)).toBe(Named.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('revives each plain item for an array type and leaves null items', () => {
    const back = reviveFromCache([plain, null, plain], [User]) as (User | null)[];
    expect(back[0]).toBeInstanceOf(User);
    expect(back[1]).toBeNull();
    expect(back[2]?.label).toBe('7:eve');
  });

  it('returns instances of the declared class, and arrays of them, as they are', () => {
    expect(reviveFromCache(original, User)).toBe(original);
    const list = [original, original];
    expect(reviveFromCache(list, [User])).toBe(list);
  });

  it.each([
    ['null', null, User],
    ['a string', 'x', User],
    ['a Date', new Date(1), User],
    ['an array given a class type', [plain], User],
    ['an object given an array type', plain, [User]],
  ] as [string, unknown, CachedType][])('returns %s unchanged', (_label, value, type) => {
    expect(reviveFromCache(value, type)).toBe(value);
  });

  it('returns the value unchanged without a type', () => {
    expect(reviveFromCache(plain, undefined)).toBe(plain);
  });
});

describe('a class-based consumer such as ClassSerializerInterceptor', () => {
  // The way class-transformer finds @Exclude(): metadata stored against the class, looked up through
  // `value.constructor` and its parents.
  const excluded = new Map<object, Set<string>>();
  const Exclude =
    () =>
    (target: object, property: string): void => {
      const constructor = (target as { constructor: object }).constructor;
      const names = excluded.get(constructor) ?? new Set<string>();
      names.add(property);
      excluded.set(constructor, names);
    };
  function instanceToPlain(value: object): Record<string, unknown> {
    const hidden = new Set<string>();
    for (let proto: unknown = Object.getPrototypeOf(value); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of excluded.get((proto as { constructor: object }).constructor) ?? []) hidden.add(name);
    }
    return Object.fromEntries(Object.entries(value).filter(([key]) => !hidden.has(key)));
  }

  class Account {
    @Exclude()
    passwordHash: string;
    email: string;
    constructor(email: string, passwordHash: string) {
      this.email = email;
      this.passwordHash = passwordHash;
    }
  }

  it('strips the excluded field from an instance read from L2 as from the original', () => {
    const account = new Account('a@b.c', 'secret-hash');
    const fromL2 = throughL2(account, Account) as Account;
    expect(instanceToPlain(fromL2)).toEqual({ email: 'a@b.c' });
    expect(instanceToPlain(fromL2)).toEqual(instanceToPlain(account));
  });

  it('strips it from L1 hits and array items alike', () => {
    const accounts = [new Account('a@b.c', 'h1'), new Account('d@e.f', 'h2')];
    for (const answer of [throughL1(accounts, [Account]), throughL2(accounts, [Account])] as Account[][]) {
      expect(answer.map(instanceToPlain)).toEqual([{ email: 'a@b.c' }, { email: 'd@e.f' }]);
    }
  });

  it('would leak the excluded field of an untyped value, which is why the class is reported', () => {
    const onReshapedClass = vi.fn();
    const { l1Value } = prepareForCache(new Account('a@b.c', 'secret-hash'), serializer, { onReshapedClass });
    expect(instanceToPlain(l1Value as object)).toHaveProperty('passwordHash');
    expect(onReshapedClass).toHaveBeenCalledWith(Account, 'Account');
  });
});

describe('ValueCodec', () => {
  it('reports each class once over many writes, saying how to keep instances', () => {
    const notices: ReshapedClassNotice[] = [];
    const codec = new ValueCodec({ serializer, onReshapedClass: (notice) => notices.push(notice) });
    codec.prepare(new User(1, 'a', new Date(0)));
    codec.prepare([new User(2, 'b', new Date(0))]);
    codec.prepare(new Address('x'));
    expect(notices.map((notice) => notice.className)).toEqual(['User', 'Address']);
    expect(notices[0]?.message).toContain('Instances of User are cached as plain data');
    expect(notices[0]?.message).toContain('type: User');
    expect(notices[0]?.message).toContain('type: [User]');
  });

  it('prepares with its serializer and revives with the declared type', () => {
    const codec = new ValueCodec({ serializer });
    const user = new User(1, 'a', new Date(0));
    const { payload, l1Value } = codec.prepare(user, User);
    expect(l1Value).toBe(user);
    expect(codec.revive(serializer.deserialize(payload), User)).toBeInstanceOf(User);
  });
});

describe('assertCachedType', () => {
  it.each([
    ['a class', User],
    ['an array of one class', [User]],
  ])('accepts %s', (_label, type) => {
    expect(() => assertCachedType(type, 'UsersService.find')).not.toThrow();
  });

  it.each([
    ['an instance', new User(1, 'a', new Date(0)), 'got an instance of User'],
    ['an array of two classes', [User, Address], 'got an array of 2 item(s)'],
    ['a string', 'User', 'got string'],
  ])('refuses %s, saying where and what to pass', (_label, type, expected) => {
    expect(() => assertCachedType(type, 'UsersService.find')).toThrow(LayeredCacheError);
    expect(() => assertCachedType(type, 'UsersService.find')).toThrow(expected);
    expect(() => assertCachedType(type, 'UsersService.find')).toThrow(/UsersService\.find must be a class/);
  });
});

describe('CachedTypeFor', () => {
  it('fits the type option to the cached value', () => {
    const single: CachedTypeFor<User | null> = User;
    const list: CachedTypeFor<User[]> = [User];
    // @ts-expect-error a class whose instances are not the cached value
    const wrong: CachedTypeFor<User> = Address;
    // @ts-expect-error an array value needs the array form
    const bare: CachedTypeFor<User[]> = User;
    const types: (CachedType | CachedClass)[] = [single, list, wrong, bare];
    expect(types).toHaveLength(4);
  });
});

describe('every layer answers with the same kind, property-based', () => {
  class Box {
    constructor(readonly content: unknown) {}
  }
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.date(),
      fc.uint8Array({ maxLength: 4 }),
      fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes)),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string(), tie('value'), { maxKeys: 3, noNullPrototype: true }),
      tie('value').map((content) => new Box(content)),
    ),
  }));
  const type = fc.constantFrom<CachedType | undefined>(undefined, Box, [Box]);

  it('L1 and L2 give the same value, with or without a declared type', () => {
    fc.assert(
      fc.property(value, type, (original, declared) => {
        expect(throughL1(original, declared)).toStrictEqual(throughL2(original, declared));
      }),
      { numRuns: 500 },
    );
  });
});
