/**
 * What workerd uses, read from Linux's /proc for every workerd process this process started: its
 * CPU (every thread), so a benchmark's CPU figures do not depend on the clock inside workerd,
 * which stands still while JavaScript runs; and its resident memory. Null where there is no /proc.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Nanoseconds of CPU that workerd (Miniflare's child processes, every thread) has used. */
export function workerdCpuNs(): number | null {
  let total = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid) || !isOurWorkerd(pid)) continue;
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      }
    }
  } catch {
    return null;
  }
  return total;
}

function isOurWorkerd(pid: string): boolean {
  try {
    // "pid (comm) state ppid …", where comm may itself hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = stat.slice(close + 2).split(" ")[1];
    return comm === "workerd" && ppid === String(process.pid);
  } catch {
    return false;
  }
}

/** Resident memory of those workerd processes, in bytes (VmRSS), or null where there is no /proc. */
export function workerdRssBytes(): number | null {
  let total = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid) || !isOurWorkerd(pid)) continue;
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      total += Number(kb ?? 0) * 1024;
    }
  } catch {
    return null;
  }
  return total;
}
