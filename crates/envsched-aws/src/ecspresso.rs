//! Targets imported from an ecspresso monorepo.
//!
//! The seed's teams already declare every service once, for ecspresso: one config per
//! service and environment, `<root>/products/app1-web/stg/ecspresso.yml`. An
//! `[[ecspresso]] root = "…", env = "stg", environment = "stg1"` entry turns each config
//! found under `root` in a directory named `env` into a target named by the path above that
//! directory (`products/app1-web`), with the config's `cluster` and `service`.
//!
//! * Templates are resolved as ecspresso resolves them: `{{ must_env `X` }}` (an error when
//!   `X` is unset) and `{{ env `X` `default` }}`, with back-quoted or double-quoted
//!   arguments. Any other function (`tfstate`, `ssm`, `secretsmanager`, …) is not evaluated:
//!   that file is an error that names it, and the fix is to declare the target in
//!   `[[targets]]`.
//! * **Declared wins:** a config whose target name is already declared in that environment
//!   is skipped without being read, so declaring a target is always a way out.
//! * `ecspresso.jsonnet` is reported as unsupported: the only Rust Jsonnet evaluator
//!   (jrsonnet) ships pre-release versions only and a large dependency tree. Render it with
//!   `jsonnet` to `ecspresso.json`, or declare the target.
//! * `region` in the config must match the environment's Region when one is configured.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use envsched_core::config::{ConfigFile, EcsSection, EcspressoSection, TargetSection};

/// Config file names ecspresso reads, in its order of preference.
const NAMES: [&str; 4] = ["ecspresso.yml", "ecspresso.yaml", "ecspresso.json", "ecspresso.jsonnet"];

/// One file that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}\n    fix: {fix}", .file.display())]
pub struct ImportError {
    /// The file (or root directory).
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// The fields envsched reads from an ecspresso config.
#[derive(Debug, serde::Deserialize)]
struct EcspressoConfig {
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    service: Option<String>,
    /// `ignore: tags: [...]` (ecspresso v2.4.0+): exact tag keys `deploy` leaves alone.
    #[serde(default)]
    ignore: Option<EcspressoIgnore>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct EcspressoIgnore {
    #[serde(default)]
    tags: Vec<String>,
}

/// An ecspresso config whose `deploy` would delete envsched's memory tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnignoredTags {
    /// The config file.
    pub file: PathBuf,
    /// envsched's keys missing from its `ignore.tags`.
    pub missing: Vec<String>,
}

/// Every ecspresso config under `sections`' roots (imported or declared: `deploy` runs on
/// both) whose `ignore.tags` lacks one of `keys`. `ecspresso deploy` untags every key its
/// service definition lacks, unless `ignore.tags` names it (exact, case-sensitive keys), so
/// a parked service deployed from CI would lose its remembered count. Files that cannot be
/// read or rendered are left to [`import`], which reports them.
pub fn unignored_tags(
    sections: &[EcspressoSection],
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    keys: &[&str],
) -> Vec<UnignoredTags> {
    let mut out = Vec::new();
    for section in sections {
        let mut found = Vec::new();
        walk(&base.join(&section.root), &section.env, 0, &mut found);
        found.sort();
        for (_, path) in found {
            let Some(parsed) = read(&path, env) else { continue };
            let ignored = parsed.ignore.map(|i| i.tags).unwrap_or_default();
            let missing: Vec<String> =
                keys.iter().filter(|k| !ignored.iter().any(|i| i == *k)).map(|k| k.to_string()).collect();
            if !missing.is_empty() {
                out.push(UnignoredTags { file: path, missing });
            }
        }
    }
    out
}

/// Reads and parses one config, `None` when it cannot be (see [`import`] for why).
fn read(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Option<EcspressoConfig> {
    if path.extension().is_some_and(|e| e == "jsonnet") {
        return None;
    }
    let text = render(&std::fs::read_to_string(path).ok()?, env).ok()?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).ok()
    } else {
        serde_saphyr::from_str(&text).ok()
    }
}

/// Adds the targets of `file`'s `[[ecspresso]]` entries to `file.targets`. Relative roots
/// are read from `base` (the config file's directory); `env` looks up environment
/// variables. Every problem is returned, not just the first; on error nothing is added.
pub fn import(
    file: &mut ConfigFile,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<usize, Vec<ImportError>> {
    let mut errors = Vec::new();
    let mut added = Vec::new();
    let mut names: HashSet<(Option<String>, String)> =
        file.targets.iter().map(|t| (t.environment.clone(), t.name.clone())).collect();
    for section in &file.ecspresso {
        let root = base.join(&section.root);
        if !root.is_dir() {
            errors.push(ImportError {
                file: root.clone(),
                message: "is not a directory".into(),
                fix: format!(
                    "point [[ecspresso]] root = {:?} at the monorepo checkout (relative to the config file)",
                    section.root
                ),
            });
            continue;
        }
        let mut found = Vec::new();
        walk(&root, &section.env, 0, &mut found);
        found.sort();
        for (dir, path) in found {
            let name = dir
                .strip_prefix(&root)
                .unwrap_or(&dir)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if name.is_empty() || !names.insert((section.environment.clone(), name.clone())) {
                // Declared (or imported already): the declaration wins, the file is not read.
                continue;
            }
            match target(section, &name, &path, env, region_of(file, section)) {
                Ok(t) => added.push(t),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        let n = added.len();
        file.targets.extend(added);
        Ok(n)
    } else {
        Err(errors)
    }
}

/// The Region configured for an import's environment, if any.
fn region_of<'a>(file: &'a ConfigFile, section: &EcspressoSection) -> Option<&'a str> {
    let env_region = section
        .environment
        .as_ref()
        .and_then(|n| file.environments.iter().find(|e| &e.name == n))
        .and_then(|e| e.aws.as_ref())
        .and_then(|a| a.region.as_deref());
    env_region.or(file.aws.region.as_deref())
}

/// Finds `<dir>/<env>/ecspresso.*` below `dir` (one file per directory, ecspresso's order).
fn walk(dir: &Path, env: &str, depth: usize, out: &mut Vec<(PathBuf, PathBuf)>) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.') && e.file_name() != "node_modules")
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        if sub.file_name().is_some_and(|n| n == env)
            && let Some(config) = NAMES.iter().map(|n| sub.join(n)).find(|p| p.is_file())
        {
            out.push((dir.to_path_buf(), config));
            continue;
        }
        walk(&sub, env, depth + 1, out);
    }
}

fn target(
    section: &EcspressoSection,
    name: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    region: Option<&str>,
) -> Result<TargetSection, ImportError> {
    let err = |message: String, fix: &str| ImportError { file: path.to_path_buf(), message, fix: fix.to_string() };
    let declare = format!(
        "declare it instead: [[targets]] name = {name:?}{} ecs = {{ cluster = \"…\", service = \"…\" }} (a declaration wins over the import)",
        section.environment.as_ref().map(|e| format!(", environment = {e:?},")).unwrap_or_else(|| ",".into())
    );
    if path.extension().is_some_and(|e| e == "jsonnet") {
        return Err(err(
            "is Jsonnet, which envsched does not evaluate".into(),
            &format!("render it to ecspresso.json with `jsonnet`, or {declare}"),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(format!("cannot be read: {e}"), "check the file's permissions"))?;
    let text = render(&text, env).map_err(|m| err(m, &declare))?;
    let parsed: EcspressoConfig = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| err(format!("is not valid JSON: {e}"), &declare))?
    } else {
        serde_saphyr::from_str(&text).map_err(|e| err(format!("is not valid YAML: {e}"), &declare))?
    };
    let Some(service) = parsed.service.filter(|s| !s.trim().is_empty()) else {
        return Err(err("has no `service`".into(), &declare));
    };
    if let (Some(want), Some(got)) = (region, parsed.region.as_deref())
        && want != got
    {
        return Err(err(
            format!("is for Region {got:?}, but its environment's Region is {want:?}"),
            "set aws = { region = \"…\" } on the environment to the config's Region, or import it into another environment",
        ));
    }
    Ok(TargetSection {
        name: name.to_string(),
        environment: section.environment.clone(),
        // ecspresso's default cluster is "default", as in ECS.
        ecs: Some(EcsSection { cluster: parsed.cluster.unwrap_or_else(|| "default".into()), service }),
        aurora: None,
        count: None,
        depends_on: Vec::new(),
        pin: None,
    })
}

/// Resolves `{{ must_env `X` }}` and `{{ env `X` `default` }}` as ecspresso's Go templates
/// do; anything else inside `{{ }}` is an error naming it.
pub fn render(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| "has a `{{` without its `}}`".to_string())?;
        let inner = after[..close].trim_start_matches('-').trim_end_matches('-').trim();
        out.push_str(&call(inner, env)?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn call(expr: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let (func, args) = expr.split_once(char::is_whitespace).unwrap_or((expr, ""));
    let args = arguments(args).ok_or_else(|| format!("cannot read the arguments of `{{{{ {expr} }}}}`"))?;
    match (func, args.as_slice()) {
        ("must_env", [name]) => env(name).ok_or_else(|| {
            format!("uses `{{{{ must_env `{name}` }}}}`, but {name} is not set in envsched's environment (set it on the task)")
        }),
        ("env", [name]) => Ok(env(name).unwrap_or_default()),
        ("env", [name, default]) => Ok(env(name).unwrap_or_else(|| default.clone())),
        _ => Err(format!("uses `{{{{ {expr} }}}}`, which envsched cannot evaluate (only must_env and env are supported)")),
    }
}

/// Go template string arguments: `"…"` or `` `…` ``, separated by spaces.
fn arguments(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => continue,
            '`' | '"' => {
                let mut arg = String::new();
                loop {
                    match chars.next()? {
                        q if q == c => break,
                        '\\' if c == '"' => arg.push(chars.next()?),
                        other => arg.push(other),
                    }
                }
                out.push(arg);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "ENV" => Some("stg1".into()),
            "CLUSTER" => Some("stg1-cluster".into()),
            _ => None,
        }
    }

    #[test]
    fn templates_resolve_like_ecspresso() {
        assert_eq!(render("cluster: {{ must_env `CLUSTER` }}", &vars).unwrap(), "cluster: stg1-cluster");
        assert_eq!(render("s: app-{{env \"ENV\"}}-{{ env `NOPE` `x` }}", &vars).unwrap(), "s: app-stg1-x");
        assert_eq!(render("s: {{- env `NOPE` -}}", &vars).unwrap(), "s: ");
        assert_eq!(render("no templates", &vars).unwrap(), "no templates");
    }

    #[test]
    fn what_cannot_be_resolved_is_named() {
        let e = render("cluster: {{ must_env `UNSET` }}", &vars).unwrap_err();
        assert!(e.contains("UNSET is not set"), "{e}");
        let e = render("cluster: {{ tfstate `aws_ecs_cluster.main.name` }}", &vars).unwrap_err();
        assert!(e.contains("tfstate") && e.contains("cannot evaluate"), "{e}");
        assert!(render("cluster: {{ must_env `X`", &vars).unwrap_err().contains("without"));
    }
}
