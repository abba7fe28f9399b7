//! Postfix multi-instance support: the instances `postmulti -l -a` lists,
//! so `--instance NAME` and `--all-instances` reach each instance's own
//! queue and its own postsuper.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::{command_text, run_for_output, Error, Postfix};

/// One instance, as `postmulti -l` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostfixInstance {
    /// `multi_instance_name`; `-` for the primary instance.
    pub name: String,
    /// `multi_instance_group`; `-` when none.
    pub group: String,
    /// `y` or `n`.
    pub enabled: bool,
    /// Its configuration directory.
    pub config_dir: PathBuf,
}

/// Parses `postmulti -l` output: `"%-15s %-15s %-9s %s\n"` per instance
/// (name, group, enabled, config_directory; `src/postmulti/postmulti.c`).
pub fn parse_postmulti(text: &str) -> Vec<PostfixInstance> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?.to_string();
            let group = fields.next()?.to_string();
            let enabled = fields.next()? == "y";
            let config_dir = PathBuf::from(fields.collect::<Vec<_>>().join(" "));
            (!config_dir.as_os_str().is_empty()).then_some(PostfixInstance {
                name,
                group,
                enabled,
                config_dir,
            })
        })
        .collect()
}

impl Postfix {
    /// Every instance of this machine's Postfix (`postmulti -l -a`, run from this instance's
    /// `command_directory`; postmulti itself reads the default instance's main.cf).
    pub fn instances(&self) -> Result<Vec<PostfixInstance>, Error> {
        let program = self.program("postmulti");
        let args = ["-l", "-a"].map(OsString::from);
        let instances = parse_postmulti(&run_for_output(&program, &args)?);
        if instances.is_empty() {
            return Err(Error::Output {
                command: command_text(&program, &args),
                detail: "no instance listed".into(),
            });
        }
        Ok(instances)
    }

    /// The instance called `name`, as `postmulti -l` names it (`-` is the primary).
    pub fn find_instance(&self, name: &str) -> Result<PostfixInstance, Error> {
        let instances = self.instances()?;
        let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
        match instances.iter().find(|i| i.name == name) {
            Some(found) => Ok(found.clone()),
            None => Err(Error::Config {
                param: format!("--instance {name}"),
                detail: format!(
                    "no such Postfix instance (postmulti lists: {})",
                    names.join(", ")
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postmulti_output_is_parsed() {
        let text = "-               -               y         /etc/postfix\npostfix-out     mta             n         /etc/postfix-out\n";
        let list = parse_postmulti(text);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "-");
        assert!(list[0].enabled);
        assert_eq!(
            list[1],
            PostfixInstance {
                name: "postfix-out".into(),
                group: "mta".into(),
                enabled: false,
                config_dir: "/etc/postfix-out".into(),
            }
        );
    }
}
