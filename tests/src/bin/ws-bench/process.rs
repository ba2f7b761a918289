//! What the kernel says about a process: CPU time (`/proc/PID/stat`) and resident memory
//! (`/proc/PID/status`).

use anyhow::{Context, Result, bail};

/// Clock ticks per second of `/proc/PID/stat` (USER_HZ): 100 on every Linux that matters.
const USER_HZ: f64 = 100.0;

/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the file, so utime (14) and stime (15) are at 11 and 12.
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("unexpected /proc/{pid}/stat: {stat}");
    };
    Ok((utime.parse::<u64>()? + stime.parse::<u64>()?) as f64 / USER_HZ)
}

/// CPU seconds of this process.
pub fn own_cpu_seconds() -> Result<f64> {
    cpu_seconds(std::process::id())
}

/// A `kB` line of `/proc/PID/status` (VmRSS, RssAnon, VmHWM …), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(field)
            && let Some(value) = rest.strip_prefix(':')
        {
            let number = value.trim().trim_end_matches("kB").trim();
            return Ok(number.parse()?);
        }
    }
    bail!("no {field} in /proc/{pid}/status")
}

/// CPU seconds of the server under test and of this load generator, read together.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub server: f64,
    pub client: f64,
}

impl Cpu {
    pub fn now(pid: Option<u32>) -> Self {
        Self {
            server: pid.and_then(|p| cpu_seconds(p).ok()).unwrap_or(f64::NAN),
            client: own_cpu_seconds().unwrap_or(f64::NAN),
        }
    }

    pub fn since(self, before: Cpu) -> Cpu {
        Cpu {
            server: self.server - before.server,
            client: self.client - before.client,
        }
    }
}
