// Learning-rate schedules as multipliers of each group's base rate, with the
// semantics of torch's LambdaLR driven by Hugging Face's get_*_schedule_with_warmup:
// the multiplier for step 0 applies from construction, and scheduler.step() after
// each optimizer.step() moves to the next one (so with warmup the first update has lr 0).

/** Multiplier of the base learning rate at a given (0-based) step. */
export type LrLambda = (step: number) => number;

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

function warmupFactor(step: number, warmupSteps: number): number {
  return step / Math.max(1, warmupSteps);
}

function checkSteps(name: string, warmupSteps: number, totalSteps?: number): void {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`${name}: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  if (totalSteps !== undefined && (!Number.isInteger(totalSteps) || totalSteps < warmupSteps)) {
    throw new Error(`${name}: totalSteps must be an integer >= warmupSteps (${warmupSteps}), got ${totalSteps}`);
  }
}

/** get_constant_schedule_with_warmup (warmupSteps 0: get_constant_schedule). */
export function constantSchedule(warmupSteps = 0): LrLambda {
  checkSteps('constantSchedule', warmupSteps);
  return (step) => (step < warmupSteps ? warmupFactor(step, warmupSteps) : 1);
}

/** get_linear_schedule_with_warmup: 0 -> 1 over warmupSteps, then 1 -> 0 at totalSteps. */
export function linearScheduleWithWarmup(warmupSteps: number, totalSteps: number): LrLambda {
  checkSteps('linearScheduleWithWarmup', warmupSteps, totalSteps);
  return (step) => (step < warmupSteps ? warmupFactor(step, warmupSteps) : Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps)));
}

/** get_cosine_schedule_with_warmup: after warmup, half a cosine (cycles = 0.5) down to 0 at totalSteps. */
export function cosineScheduleWithWarmup(warmupSteps: number, totalSteps: number, cycles = 0.5): LrLambda {
  checkSteps('cosineScheduleWithWarmup', warmupSteps, totalSteps);
  return (step) => {
    if (step < warmupSteps) return warmupFactor(step, warmupSteps);
    const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
  };
}

/** The schedule a CLI flag names. totalSteps is needed by linear and cosine. */
export function makeSchedule(kind: ScheduleKind, options: { warmupSteps?: number; totalSteps?: number } = {}): LrLambda {
  const warmupSteps = options.warmupSteps ?? 0;
  if (kind === 'constant') return constantSchedule(warmupSteps);
  if (options.totalSteps === undefined) throw new Error(`makeSchedule: the ${kind} schedule needs totalSteps`);
  return kind === 'linear' ? linearScheduleWithWarmup(warmupSteps, options.totalSteps) : cosineScheduleWithWarmup(warmupSteps, options.totalSteps);
}

/** What a scheduler rewrites: any optimizer's groups. */
interface ScheduledGroup {
  name: string;
  lr: number;
  initialLr: number;
}

/** torch.optim.lr_scheduler.LambdaLR: lr = initialLr * lambda(step), one lambda for all groups or one per group. */
export class LrScheduler {
  private currentStep = 0;
  private readonly lambdas: LrLambda[];

  constructor(private readonly optimizer: { groups: ScheduledGroup[] }, lambda: LrLambda | LrLambda[]) {
    const groups = optimizer.groups;
    this.lambdas = Array.isArray(lambda) ? lambda : groups.map(() => lambda);
    if (this.lambdas.length !== groups.length) throw new Error(`LrScheduler: ${this.lambdas.length} schedules for ${groups.length} parameter groups`);
    this.apply();
  }

  /** Advance one step; call after optimizer.step(). */
  step(): void {
    this.currentStep++;
    this.apply();
  }

  get lastStep(): number {
    return this.currentStep;
  }

  /** The learning rate of each group for the next optimizer step. */
  lrs(): number[] {
    return this.optimizer.groups.map((g) => g.lr);
  }

  stateDict(): { lastStep: number } {
    return { lastStep: this.currentStep };
  }

  loadStateDict(state: { lastStep: number }): void {
    this.currentStep = state.lastStep;
    this.apply();
  }

  private apply(): void {
    this.optimizer.groups.forEach((g, i) => {
      g.lr = g.initialLr * this.lambdas[i]!(this.currentStep);
    });
  }
}
