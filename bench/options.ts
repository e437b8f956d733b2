/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  /** Rounds of interleaved measurements per scenario (default 5; 2 with --quick). */
  readonly rounds: number;
  readonly quick: boolean;
  /** Scenario ids to run; empty runs all. */
  readonly only: readonly string[];
  /** Skip the HTTP figure (it needs the sample app and autocannon, about 40 s). */
  readonly skipHttp: boolean;
  /** Set in the process the run starts for one scenario: that scenario's id. */
  readonly scenarioProcess?: string;
}

const USAGE = 'usage: npm run bench -- [--quick] [--rounds N] [--only id[,id...]] [--skip-http]';

/** Parses `argv` (without the node and script paths). */
export function parseOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let rounds: number | undefined;
  let only: string[] = [];
  let skipHttp = false;
  let scenarioProcess: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--quick') quick = true;
    else if (argument === '--skip-http') skipHttp = true;
    else if (argument === '--rounds') rounds = Number(argv[++index]);
    else if (argument === '--only') only = (argv[++index] ?? '').split(',').filter((id) => id !== '');
    else if (argument === '--scenario-process') scenarioProcess = argv[++index];
    else throw new Error(`Unknown option "${argument}". ${USAGE}`);
  }
  rounds ??= quick ? 2 : 5;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new Error(`--rounds takes a whole number from 1 to 50. ${USAGE}`);
  if (scenarioProcess !== undefined) return { rounds, quick, only: [scenarioProcess], skipHttp: true, scenarioProcess };
  return { rounds, quick, only, skipHttp };
}
