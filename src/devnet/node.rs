//! A simulated node's answers, pure: a parsed request, the node's profile and bodies
//! in, a `Reply` out (the five lean endpoints, `404` for any other path, `405` for
//! methods other than GET and HEAD). A `liar` serves a tampered state, a
//! `no-fork-choice` node answers `404` on the fork choice.

use super::bodies::{NodeBodies, HEALTH};
use super::profile::Profile;
use crate::http1::request::Method;
use crate::server::router::{Body, Reply, RouteInput, APPLICATION_JSON, OCTET_STREAM};

/// The lean endpoints a simulated node serves.
pub const HEALTH_PATH: &str = "/lean/v0/health";
pub const STATE_PATH: &str = "/lean/v0/states/finalized";
pub const BLOCK_PATH: &str = "/lean/v0/blocks/finalized";
pub const JUSTIFIED_PATH: &str = "/lean/v0/checkpoints/justified";
pub const FORK_CHOICE_PATH: &str = "/lean/v0/fork_choice";

/// Answers one request of a `profile` node from `bodies`. The query string, if any, is
/// ignored.
pub fn answer(bodies: &NodeBodies, profile: Profile, input: RouteInput<'_>) -> Reply {
    let path = input
        .target
        .split_once('?')
        .map_or(input.target, |(path, _)| path);
    let (content_type, body) = match (path, profile) {
        (HEALTH_PATH, _) => (APPLICATION_JSON, Body::Static(HEALTH)),
        (STATE_PATH, Profile::Liar) => (OCTET_STREAM, Body::Shared(bodies.tampered_state())),
        (STATE_PATH, _) => (OCTET_STREAM, Body::Shared(bodies.state.clone())),
        (BLOCK_PATH, _) => (OCTET_STREAM, Body::Shared(bodies.block.clone())),
        (JUSTIFIED_PATH, _) => (APPLICATION_JSON, Body::Shared(bodies.justified.clone())),
        (FORK_CHOICE_PATH, Profile::NoForkChoice) => return Reply::not_found(),
        (FORK_CHOICE_PATH, _) => (APPLICATION_JSON, Body::Shared(bodies.fork_choice.clone())),
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
    use crate::lean::lstar::{signed_block_roots, state_roots};
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

    fn request(b: &NodeBodies, profile: Profile, method: Method, target: &str) -> Reply {
        answer(
            b,
            profile,
            RouteInput {
                method,
                target,
                if_none_match: None,
                client: None,
            },
        )
    }

    fn get(b: &NodeBodies, target: &str) -> Reply {
        request(b, Profile::Healthy, Method::Get, target)
    }

    #[test]
    fn serves_the_five_endpoints() {
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
        let block = get(&b, BLOCK_PATH);
        assert_eq!((block.status, block.content_type), (200, OCTET_STREAM));
        let roots = signed_block_roots(block.body.as_slice()).unwrap();
        assert_eq!(roots.slot, 9);
        assert_eq!(
            roots.state_root,
            state_roots(state.body.as_slice()).unwrap().state_root
        );
        assert_eq!(get(&b, JUSTIFIED_PATH).body.as_slice(), &*b.justified);
        assert_eq!(get(&b, FORK_CHOICE_PATH).body.as_slice(), &*b.fork_choice);
        assert_eq!(get(&b, "/lean/v0/fork_choice?x=1").status, 200);
        assert_eq!(get(&b, "/lean/v0/blocks/finalized?x=1").status, 200);
    }

    #[test]
    fn shares_the_state_and_block_bytes() {
        let b = bodies();
        match get(&b, STATE_PATH).body {
            Body::Shared(bytes) => assert!(std::rc::Rc::ptr_eq(&bytes, &b.state)),
            other => panic!("copied: {other:?}"),
        }
        match get(&b, BLOCK_PATH).body {
            Body::Shared(bytes) => assert!(std::rc::Rc::ptr_eq(&bytes, &b.block)),
            other => panic!("copied: {other:?}"),
        }
    }

    #[test]
    fn a_liar_tampers_with_the_state_only() {
        let b = bodies();
        let lie = |target| request(&b, Profile::Liar, Method::Get, target);
        let state = lie(STATE_PATH);
        assert_eq!(state.status, 200);
        assert_ne!(state.body.as_slice(), &*b.state);
        assert_eq!(
            validate_state(state.body.as_slice()),
            validate_state(&b.state),
            "same layout and summary"
        );
        for target in [BLOCK_PATH, JUSTIFIED_PATH, FORK_CHOICE_PATH, HEALTH_PATH] {
            assert_eq!(lie(target).body.as_slice(), get(&b, target).body.as_slice());
        }
    }

    #[test]
    fn no_fork_choice_is_404_there_only() {
        let b = bodies();
        let ask = |target| request(&b, Profile::NoForkChoice, Method::Get, target);
        assert_eq!(ask(FORK_CHOICE_PATH).status, 404);
        assert_eq!(
            request(&b, Profile::NoForkChoice, Method::Head, FORK_CHOICE_PATH).status,
            404
        );
        for target in [BLOCK_PATH, STATE_PATH, JUSTIFIED_PATH, HEALTH_PATH] {
            let reply = ask(target);
            assert_eq!(reply.status, 200, "{target}");
            assert_eq!(reply.body.as_slice(), get(&b, target).body.as_slice());
        }
    }

    #[test]
    fn anything_else_is_404_or_405() {
        let b = bodies();
        for target in [
            "/",
            "/lean/v0/blocks/head",
            "/lean/v0/blocks/finalized/",
            "/lean/v0/health/",
            "/status",
        ] {
            assert_eq!(get(&b, target).status, 404, "{target}");
        }
        let post = request(&b, Profile::Healthy, Method::Other, HEALTH_PATH);
        assert_eq!(post.status, 405);
        for target in [STATE_PATH, BLOCK_PATH] {
            let head = request(&b, Profile::Healthy, Method::Head, target);
            assert_eq!(head.status, 200, "the shell omits the body of HEAD");
        }
    }
}
