//! The files in `deploy/` agree with the binary and with each other: the task role grants
//! every call the fleet makes, the container's health check, port, stop timeout and secrets
//! match what `envsched run` expects, the Datadog label scrapes `/metrics`, and CI passes
//! ecspresso every variable its files require. (terraform, ecspresso and docker cannot run
//! here: no provider registry, no ECS, no Docker engine; `terraform fmt -check` passes.)

use std::path::{Path, PathBuf};

use envsched_core::Config;
use serde_json::Value;

fn deploy(path: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An ecspresso template with every `{{ … }}` replaced by `value`.
fn rendered(text: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed {{") + start + 2;
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The names in `must_env \`NAME\`` calls.
fn must_envs(text: &str) -> Vec<String> {
    text.split("must_env `").skip(1).map(|s| s.split('`').next().unwrap().to_string()).collect()
}

fn defaults() -> Config {
    Config::from_toml("", "defaults").unwrap()
}

fn container<'a>(task: &'a Value, name: &str) -> &'a Value {
    task["containerDefinitions"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()
}

#[test]
fn the_task_role_grants_every_call_the_fleet_makes_and_no_wildcards() {
    let tf = deploy("terraform/main.tf");
    let readme = deploy("README.md");
    for action in envsched_aws::IAM_ACTIONS {
        assert!(tf.contains(&format!("\"{action}\"")), "deploy/terraform/main.tf does not grant {action}");
        assert!(readme.contains(&format!("`{action}`")), "deploy/README.md does not list {action}");
    }
    for wildcard in
        ["\"ecs:*\"", "\"rds:*\"", "\"application-autoscaling:*\"", "\"*:*\"", "\"sts:*\"", "\"dynamodb:*\""]
    {
        assert!(!tf.contains(wildcard), "{wildcard} in the task policy");
    }
    // The tag condition names envsched's own keys, never the `protected` key people set.
    let keys = defaults().tags;
    for (key, suffix) in [(&keys.count, "count"), (&keys.autoscaling, "autoscaling"), (&keys.state, "state")] {
        assert!(key.ends_with(suffix), "{key}");
        assert!(tf.contains(&format!("\"${{var.tag_prefix}}{suffix}\"")), "the tag condition lacks {key}");
    }
    // The lease: its three calls on the lease table only, and only this deployment's item;
    // the example config names the table Terraform creates (default name "envsched").
    let lease = tf.split("sid       = \"OneActiveCopy\"").nth(1).expect("a statement for the lease");
    let lease = &lease[..lease.find("\n  }\n").unwrap()];
    assert!(lease.contains("resources = [aws_dynamodb_table.lease.arn]"), "{lease}");
    assert!(lease.contains("dynamodb:LeadingKeys") && lease.contains("var.lease_key"), "{lease}");
    assert!(tf.contains("name         = \"${var.name}-lease\""));
    let example = Config::from_toml(&deploy("../config/envsched.example.toml"), "example").unwrap();
    let settings = example.lease.expect("the example config coordinates its copies");
    assert_eq!(settings.table, "envsched-lease");
    assert!(deploy("terraform/variables.tf").contains(&format!("default     = \"{}\"", settings.key)));
    // envsched never deletes its memory: a task role that cannot untag proves it.
    assert!(!tf.contains("\"ecs:UntagResource\""), "the task role must not be able to delete tags");
    assert!(!tf.contains("protected\""), "the policy must not allow writing the protected tag");
}

#[test]
fn the_task_definition_matches_what_run_expects() {
    let task: Value = serde_json::from_str(&rendered(&deploy("ecspresso/ecs-task-def.json"), "x")).unwrap();
    let c = container(&task, "envsched");
    let config = defaults();

    // Health check: exec form, the binary's own subcommand, at the path the image puts it.
    let dockerfile = deploy("Dockerfile");
    assert_eq!(c["healthCheck"]["command"], serde_json::json!(["CMD", "/envsched", "healthcheck"]));
    assert!(dockerfile.contains("COPY --from=builder /src/target/release/envsched /envsched"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/envsched\"]"));
    let config_path = "/etc/envsched/envsched.toml";
    assert!(dockerfile.contains(&format!("COPY ${{CONFIG}} {config_path}")));
    assert!(dockerfile.contains(&format!("CMD [\"run\", \"--config\", \"{config_path}\"]")));

    // The port `run` listens on by default.
    assert_eq!(c["portMappings"][0]["containerPort"].as_u64(), Some(u64::from(config.listen.port())));

    // ECS waits longer than the drain before SIGKILL, within Fargate's 120 s.
    let stop = c["stopTimeout"].as_i64().unwrap();
    assert!(stop > config.schedule.drain.as_secs() && stop <= 120, "stopTimeout {stop}");

    // The token arrives in the variable the config reads by default.
    let secrets: Vec<&str> = c["secrets"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(secrets.contains(&config.notion.token_env.as_str()), "{secrets:?}");
    assert!(deploy("../config/envsched.example.toml").contains("webhook_token_env = \"NOTION_WEBHOOK_TOKEN\""));
    assert!(secrets.contains(&"NOTION_WEBHOOK_TOKEN"), "{secrets:?}");

    // Unified service tags for the logs, and the Agent's OpenMetrics check on /metrics,
    // exactly as deploy/datadog/README.md documents it.
    let env: Vec<&str> = c["environment"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    for v in ["DD_ENV", "DD_SERVICE", "DD_VERSION"] {
        assert!(env.contains(&v), "{v} missing");
    }
    let label = c["dockerLabels"]["com.datadoghq.ad.checks"].as_str().unwrap();
    let check: Value = serde_json::from_str(label).unwrap();
    let endpoint = check["openmetrics"]["instances"][0]["openmetrics_endpoint"].as_str().unwrap();
    assert_eq!(endpoint, format!("http://localhost:{}/metrics", config.listen.port()));
    let as_json = serde_json::to_string(label).unwrap();
    assert!(deploy("datadog/README.md").contains(&as_json), "the label differs from deploy/datadog/README.md");
    assert_eq!(c["logConfiguration"]["logDriver"], "awsfirelens");
    assert_eq!(c["logConfiguration"]["options"]["dd_service"], "envsched");
    // The router parses each JSON line, so the key envsched writes its sentence under is the
    // message Datadog shows.
    let router = container(&task, "log-router");
    assert_eq!(router["firelensConfiguration"]["options"]["config-file-value"], "/fluent-bit/configs/parse-json.conf");
    assert_eq!(c["logConfiguration"]["options"]["dd_message_key"], "message");

    // The sidecars the container relies on.
    assert_eq!(router["firelensConfiguration"]["type"], "fluentbit");
    assert_eq!(
        container(&task, "datadog-agent")["environment"][0],
        serde_json::json!({"name": "ECS_FARGATE", "value": "true"})
    );
}

#[test]
fn the_service_runs_one_copy_and_protects_itself() {
    let svc: Value = serde_json::from_str(&rendered(&deploy("ecspresso/ecs-service-def.json"), "x")).unwrap();
    assert_eq!(svc["desiredCount"], 1);
    assert_eq!(svc["deploymentConfiguration"]["minimumHealthyPercent"], 0);
    assert_eq!(svc["deploymentConfiguration"]["maximumPercent"], 100);
    // If its own cluster is also managed, envsched leaves itself alone.
    let protected = defaults().tags.protected;
    assert!(svc["tags"].as_array().unwrap().iter().any(|t| t["key"] == protected.as_str() && t["value"] == "true"));
}

#[test]
fn ecspresso_finds_its_files_and_ci_sets_every_variable_they_need() {
    let yml = deploy("ecspresso/ecspresso.yml");
    let conf: Value = serde_saphyr::from_str(&rendered(&yml, "x")).unwrap();
    for key in ["service_definition", "task_definition"] {
        let file = conf[key].as_str().unwrap();
        deploy(&format!("ecspresso/{file}"));
    }
    let workflow_text = deploy("github-actions/deploy.yml");
    let workflow: Value = serde_saphyr::from_str(&workflow_text).unwrap();
    let step = workflow["jobs"]["deploy"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("ecspresso deploy")))
        .expect("a step runs ecspresso deploy");
    assert_eq!(step["working-directory"], "deploy/ecspresso");
    let mut needed: Vec<String> = ["ecspresso.yml", "ecs-task-def.json", "ecs-service-def.json"]
        .iter()
        .flat_map(|f| must_envs(&deploy(&format!("ecspresso/{f}"))))
        .collect();
    needed.sort();
    needed.dedup();
    assert!(needed.len() >= 8, "must_env names found: {needed:?}");
    for name in needed {
        // configure-aws-credentials exports AWS_REGION.
        if name == "AWS_REGION" {
            continue;
        }
        assert!(step["env"].get(&name).is_some(), "the deploy step does not set {name}");
    }
    let test = workflow["jobs"]["test"]["steps"].as_array().unwrap();
    assert!(test.iter().any(|s| s["run"] == "bash .ci/run"), "CI runs the README's test command");
    let build = workflow["jobs"]["image"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("docker/build-push-action")))
        .expect("a step builds the image");
    assert_eq!(build["with"]["file"], "deploy/Dockerfile");
}
