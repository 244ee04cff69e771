//! The admin listener's routes (`--admin-port`): only `/healthz`, `/metrics` and
//! `/status`, answered exactly as on the public port; anything else is `404`. Pure.

use super::router::{route, Reply, RouteContext, RouteInput};

/// The paths the admin listener serves.
pub const ADMIN_PATHS: [&str; 3] = ["/healthz", "/metrics", "/status"];

/// Routes one request that came through the admin listener.
pub fn route_admin(input: RouteInput<'_>, ctx: &RouteContext<'_>) -> Reply {
    let path = input
        .target
        .split_once('?')
        .map_or(input.target, |(p, _)| p);
    if ADMIN_PATHS.contains(&path) {
        // No pairing of block and state here: those are not served.
        let ctx = RouteContext {
            pairing: None,
            timeline_cache: None,
            ..*ctx
        };
        route(input, &ctx)
    } else {
        Reply::not_found()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::request::Method;
    use crate::server::router::fixtures::agreed_app;

    fn status(target: &str, method: Method) -> u16 {
        let app = agreed_app();
        let ctx = crate::server::router::fixtures::context(&app);
        let input = RouteInput {
            method,
            target,
            if_none_match: None,
            client: None,
        };
        route_admin(input, &ctx).status
    }

    #[test]
    fn serves_the_three_paths_and_nothing_else() {
        for path in ["/healthz", "/metrics", "/status", "/healthz?x=1"] {
            assert_eq!(status(path, Method::Get), 200, "{path}");
            assert_eq!(status(path, Method::Head), 200, "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/api/upstreams",
            "/lean/v0/states/finalized",
            "/lean/v0/health",
            "/healthz/",
            "/metrics2",
        ] {
            assert_eq!(status(path, Method::Get), 404, "{path}");
        }
        assert_eq!(status("/healthz", Method::Other), 405);
    }
}
