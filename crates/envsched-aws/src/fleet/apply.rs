//! Applying one action: the resource is read again, the memory protocol's step decides, and
//! the write follows at once.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::types::Tag;
use envsched_core::{Action, AuroraStatus, FleetError, Op, Outcome, ServiceNow, Step};

use super::observe::{ecs_tags, resource_id};
use super::{AwsFleet, Clients, Family};
use crate::error::sdk_error;

impl AwsFleet {
    /// One ECS action: the write's token first, then the re-read, then the write at once, so
    /// no rate-limit wait sits between the check ([`envsched_core::memory::step`]) and the
    /// change it guards.
    pub(super) async fn apply_service(
        &self,
        c: &Clients,
        a: &Action,
        cluster: &str,
        service: &str,
    ) -> Result<Outcome, FleetError> {
        let family = match &a.op {
            Op::Scale { .. } => Family::EcsWrite,
            Op::Remember { .. } | Op::MarkRunning => Family::EcsTag,
            Op::ParkAutoscaling { .. } | Op::RestoreAutoscaling { .. } => Family::Autoscaling,
            Op::Start | Op::Stop => {
                return Err(FleetError::InvalidState {
                    target: a.target.to_string(),
                    operation: a.op.name().into(),
                    state: "an ECS service".into(),
                });
            }
        };
        self.token(c, family).await?;
        let s = self
            .describe_services(c, cluster, &[service.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| FleetError::NotFound { target: a.target.to_string() })?;
        let tags = ecs_tags(&s);
        // Only the ops that depend on the scalable target read it.
        let autoscaling = if a.op.reads_autoscaling() {
            self.scalable_targets(c, &[resource_id(cluster, service)]).await?.values().next().copied()
        } else {
            None
        };
        let desired = u32::try_from(s.desired_count()).unwrap_or(0);
        let now = ServiceNow { desired_count: desired, autoscaling, tags: &tags };
        let step = envsched_core::memory::step(&a.op, &a.memory, &now);
        self.send_step(c, a, (cluster, service), &s, desired, step).await
    }

    /// What a step of the memory protocol calls for: nothing, a refusal, or one write sent
    /// at once.
    async fn send_step(
        &self,
        c: &Clients,
        a: &Action,
        (cluster, service): (&str, &str),
        s: &aws_sdk_ecs::types::Service,
        desired: u32,
        step: Step,
    ) -> Result<Outcome, FleetError> {
        match step {
            Step::AlreadyDone(why) => Ok(Outcome::AlreadyDone(why)),
            Step::Refuse(why) => Err(FleetError::InvalidState {
                target: a.target.to_string(),
                operation: a.op.name().into(),
                state: why,
            }),
            Step::Scale(to) => {
                self.write("ecs:UpdateService")?;
                c.ecs
                    .update_service()
                    .cluster(cluster)
                    .service(service)
                    .desired_count(i32::try_from(to).unwrap_or(i32::MAX))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "ecs:UpdateService", e))?;
                Ok(Outcome::Done(format!("desiredCount {desired} → {to}")))
            }
            Step::Tag(set) => {
                self.write("ecs:TagResource")?;
                let detail = set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
                let tags: Vec<Tag> = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
                c.ecs
                    .tag_resource()
                    .resource_arn(s.service_arn().unwrap_or_default())
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "ecs:TagResource", e))?;
                Ok(Outcome::Done(format!("tagged {detail}")))
            }
            Step::Autoscaling(want) => {
                self.write("application-autoscaling:RegisterScalableTarget")?;
                c.autoscaling
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(resource_id(cluster, service))
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .min_capacity(i32::try_from(want.min).unwrap_or(0))
                    .max_capacity(i32::try_from(want.max).unwrap_or(0))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "application-autoscaling:RegisterScalableTarget", e))?;
                Ok(Outcome::Done(format!("autoscaling {want}")))
            }
        }
    }

    pub(super) async fn apply_cluster(&self, c: &Clients, a: &Action, id: &str) -> Result<Outcome, FleetError> {
        let found = self.describe_clusters(c, Some(&[id.to_string()])).await?;
        let cluster = found.first().ok_or_else(|| FleetError::NotFound { target: a.target.to_string() })?;
        let status = AuroraStatus::from(cluster.status().unwrap_or("unknown").to_string());
        match (&a.op, &status) {
            (Op::Start, AuroraStatus::Stopped) => {
                self.token(c, Family::Rds).await?;
                self.write("rds:StartDBCluster")?;
                c.rds
                    .start_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "rds:StartDBCluster", e))?;
                Ok(Outcome::Done("starting".into()))
            }
            (Op::Start, AuroraStatus::Starting | AuroraStatus::Available) => {
                Ok(Outcome::AlreadyDone(format!("already {status}")))
            }
            (Op::Stop, AuroraStatus::Available) => {
                self.token(c, Family::Rds).await?;
                self.write("rds:StopDBCluster")?;
                c.rds
                    .stop_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "rds:StopDBCluster", e))?;
                Ok(Outcome::Done("stopping".into()))
            }
            (Op::Stop, AuroraStatus::Stopping | AuroraStatus::Stopped) => {
                Ok(Outcome::AlreadyDone(format!("already {status}")))
            }
            (op, s) => Err(FleetError::InvalidState {
                target: a.target.to_string(),
                operation: op.name().into(),
                state: s.to_string(),
            }),
        }
    }
}
