//! Shared by the AWS test binaries (moto and the fake).

use envsched_core::{Booking, Window};

/// A live, open-ended stg1 booking of `components`.
pub fn booking(components: &[&str]) -> Booking {
    Booking {
        id: "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701".into(),
        title: "aws test".into(),
        status: "利用中".into(),
        components: components.iter().map(|c| c.to_string()).collect(),
        environment: Some("stg1".into()),
        window: Window::Open,
        trashed: false,
        feedback: None,
        last_edited: None,
        url: None,
    }
}
