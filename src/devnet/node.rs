//! A simulated node's answers, pure: a parsed request and the node's bodies in, a
//! `Reply` out (the four lean endpoints, `404` for any other path, `405` for methods
//! other than GET and HEAD).

use super::bodies::{NodeBodies, HEALTH};
use crate::http1::request::Method;
use crate::server::router::{Body, Reply, RouteInput, APPLICATION_JSON, OCTET_STREAM};

/// The lean endpoints a simulated node serves.
pub const HEALTH_PATH: &str = "/lean/v0/health";
pub const STATE_PATH: &str = "/lean/v0/states/finalized";
pub const JUSTIFIED_PATH: &str = "/lean/v0/checkpoints/justified";
pub const FORK_CHOICE_PATH: &str = "/lean/v0/fork_choice";

/// Answers one request from `bodies`. The query string, if any, is ignored.
pub fn answer(bodies: &NodeBodies, input: RouteInput<'_>) -> Reply {
    let path = input
        .target
        .split_once('?')
        .map_or(input.target, |(path, _)| path);
    let (content_type, body) = match path {
        HEALTH_PATH => (APPLICATION_JSON, Body::Static(HEALTH)),
        STATE_PATH => (OCTET_STREAM, Body::Shared(bodies.state.clone())),
        JUSTIFIED_PATH => (APPLICATION_JSON, Body::Shared(bodies.justified.clone())),
        FORK_CHOICE_PATH => (APPLICATION_JSON, Body::Shared(bodies.fork_choice.clone())),
        _ => return Reply::not_found(),
    };
    if input.method == Method::Other {
        return Reply::method_not_allowed();
    }
    Reply {
        status: 200,
        content_type,
        body,
        headers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::bodies::BodyCache;
    use crate::devnet::chain::{ChainParams, CANONICAL};
    use crate::lean::ssz::validate_state;

    fn bodies() -> std::rc::Rc<NodeBodies> {
        let params = ChainParams {
            genesis_time: 1,
            slot_ms: 1000,
            start_slot: 0,
            validators: 4,
        };
        BodyCache::new(params, 4).get(CANONICAL, 12)
    }

    fn get(b: &NodeBodies, target: &str) -> Reply {
        answer(
            b,
            RouteInput {
                method: Method::Get,
                target,
                if_none_match: None,
            },
        )
    }

    #[test]
    fn serves_the_four_endpoints() {
        let b = bodies();
        let health = get(&b, HEALTH_PATH);
        assert_eq!(
            (health.status, health.content_type),
            (200, APPLICATION_JSON)
        );
        assert_eq!(health.body.as_slice(), HEALTH);
        let state = get(&b, STATE_PATH);
        assert_eq!((state.status, state.content_type), (200, OCTET_STREAM));
        assert_eq!(validate_state(state.body.as_slice()).unwrap().slot, 9);
        assert_eq!(get(&b, JUSTIFIED_PATH).body.as_slice(), &*b.justified);
        assert_eq!(get(&b, FORK_CHOICE_PATH).body.as_slice(), &*b.fork_choice);
        assert_eq!(get(&b, "/lean/v0/fork_choice?x=1").status, 200);
    }

    #[test]
    fn shares_the_state_bytes() {
        let b = bodies();
        match get(&b, STATE_PATH).body {
            Body::Shared(bytes) => assert!(std::rc::Rc::ptr_eq(&bytes, &b.state)),
            other => panic!("copied: {other:?}"),
        }
    }

    #[test]
    fn anything_else_is_404_or_405() {
        let b = bodies();
        for target in [
            "/",
            "/lean/v0/blocks/finalized",
            "/lean/v0/health/",
            "/status",
        ] {
            assert_eq!(get(&b, target).status, 404, "{target}");
        }
        let post = answer(
            &b,
            RouteInput {
                method: Method::Other,
                target: HEALTH_PATH,
                if_none_match: None,
            },
        );
        assert_eq!(post.status, 405);
        let head = answer(
            &b,
            RouteInput {
                method: Method::Head,
                target: STATE_PATH,
                if_none_match: None,
            },
        );
        assert_eq!(head.status, 200, "the shell omits the body of HEAD");
    }
}
