import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPUs this process can really use: the cgroup CPU quota in a container (a pod limited to
 * 2 CPUs on a 64-core node must not start 64 threads), else the CPUs in its affinity mask.
 * Native engines oversubscribed by even one thread slow down by orders of magnitude.
 */
export function usableCpuCount(): number {
  const cpus = availableParallelism();
  const quota = cgroupCpuQuota();
  return Math.max(1, quota === undefined ? cpus : Math.min(cpus, Math.floor(quota)));
}

function cgroupCpuQuota(): number | undefined {
  try {
    // cgroup v2: "max 100000" or "200000 100000"
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota && quota !== 'max') return Number(quota) / Number(period);
    return undefined;
  } catch {
    // cgroup v1
    try {
      const quota = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
      const period = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
      return quota > 0 && period > 0 ? quota / period : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Reads a positive integer from the environment, or the default; a bad value fails start-up. */
export function envInt(
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Environment variable ${name}=${raw} must be an integer from ${min} to ${max}.`);
  }
  return value;
}
