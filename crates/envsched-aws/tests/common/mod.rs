//! Shared by the AWS test binaries (moto and the fake).

use envsched_core::Booking;

/// A live, open-ended stg1 booking of `components`.
pub fn booking(components: &[&str]) -> Booking {
    envsched_fixtures::booking("aws test").id("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701").components(components).build()
}
