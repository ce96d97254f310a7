//! Resident set sizes from `/proc/self/status`.

/// Resident set sizes, in KiB, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    /// `VmRSS`: everything resident.
    pub vm: u64,
    /// `RssAnon`: heap and stacks (without the mapped code and files).
    pub anon: u64,
    /// The process's `VmRSS` at the end of the idle period (in an [`Rss::increment`]).
    pub total: u64,
}

impl Rss {
    /// This process's sizes now.
    pub fn read() -> Result<Self, String> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("/proc/self/status: {e}"))?;
        Self::parse(&status)
    }

    /// The sizes in a `/proc/<pid>/status` text.
    fn parse(status: &str) -> Result<Self, String> {
        let field = |name: &str| -> Result<u64, String> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| format!("/proc/self/status has no {name}"))
        };
        Ok(Self {
            vm: field("VmRSS:")?,
            anon: field("RssAnon:")?,
            total: 0,
        })
    }

    /// What grew from `before` to `after`, with `after`'s whole `VmRSS` as the total.
    pub fn increment(before: Self, after: Self) -> Self {
        Self {
            vm: after.vm.saturating_sub(before.vm),
            anon: after.anon.saturating_sub(before.anon),
            total: after.vm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_subtracts() {
        let status = "Name:\tbench\nVmRSS:\t   20480 kB\nRssAnon:\t    8192 kB\n";
        let before = Rss::parse(status).unwrap();
        assert_eq!(
            before,
            Rss {
                vm: 20480,
                anon: 8192,
                total: 0
            }
        );
        let after = Rss {
            vm: 30720,
            anon: 4096,
            total: 0,
        };
        assert_eq!(
            Rss::increment(before, after),
            Rss {
                vm: 10240,
                anon: 0,
                total: 30720
            }
        );
        assert_eq!(
            Rss::parse("VmRSS:\t1 kB\n"),
            Err("/proc/self/status has no RssAnon:".to_owned())
        );
        let now = Rss::read().unwrap();
        assert!(now.vm > 0 && now.anon <= now.vm, "{now:?}");
    }
}
