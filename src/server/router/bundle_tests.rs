//! Router tests of the checkpoint bundle: the verified block and state served as a pair
//! with their roots and ETags, the previous pair while the next is verified, conditional
//! requests, failures, the pairing of a client's two requests across an advance, and the
//! fork choice of a majority member.

use super::*;

#[test]
fn finalized_block_and_state_served_shared_with_etag_and_roots() {
    let app = agreed_app();
    let bundle = app.bundle.clone().unwrap();
    for (path, blob) in [
        ("/lean/v0/states/finalized", &bundle.state),
        ("/lean/v0/blocks/finalized", &bundle.block),
    ] {
        let r = get(&app, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.content_type, OCTET_STREAM);
        assert_eq!(r.header("ETag"), Some(blob.etag.as_str()));
        assert_eq!(r.header("Cache-Control"), Some("public, max-age=1"));
        assert_eq!(
            r.header("Eth-Consensus-Block-Root"),
            Some(format!("0x{}", "bb".repeat(32)).as_str())
        );
        assert_eq!(
            r.header("Eth-Consensus-State-Root"),
            Some(format!("0x{}", "5e".repeat(32)).as_str())
        );
        match &r.body {
            Body::Blob(s) => assert!(Rc::ptr_eq(s, blob)),
            other => panic!("not shared: {other:?}"),
        }
        assert_eq!(r.body.as_slice(), &blob.bytes[..]);
        let head = route(
            RouteInput {
                method: Method::Head,
                target: path,
                if_none_match: None,
                client: None,
            },
            &ctx(&app),
        );
        assert_eq!((head.status, head.body.len()), (200, blob.bytes.len()));
    }
    assert_ne!(bundle.state.etag, bundle.block.etag);
}

#[test]
fn the_previous_bundle_is_served_while_the_next_is_fetched() {
    let mut app = agreed_app();
    if let Some(a) = app.agreed.as_mut() {
        a.finalized = crate::lean::Checkpoint {
            slot: 104,
            root: [0xcc; 32],
        };
    }
    for path in ["/lean/v0/states/finalized", "/lean/v0/blocks/finalized"] {
        let r = get(&app, path);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("Eth-Consensus-Block-Root"),
            Some(format!("0x{}", "bb".repeat(32)).as_str()),
            "{path} serves the verified pair, not the newer unverified checkpoint"
        );
    }
}

#[test]
fn finalized_state_conditional_requests() {
    let app = agreed_app();
    let etag = app.bundle.as_ref().unwrap().state.etag.clone();
    let bare = etag.trim_matches('"').to_string();
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        "*".to_string(),
        format!("\"0xdead\", {etag}"),
        format!(" \"x\" ,W/{etag} "),
        bare,
    ] {
        let r = get_with(&app, "/lean/v0/states/finalized", Some(&inm));
        assert_eq!(r.status, 304, "{inm}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("ETag"), Some(etag.as_str()));
    }
    for inm in ["\"0xdead\"", "", "W/\"0x\"", "\"\""] {
        let r = get_with(&app, "/lean/v0/states/finalized", Some(inm));
        assert_eq!(r.status, 200, "{inm}");
    }
}

#[test]
fn finalized_state_failures() {
    for path in ["/lean/v0/states/finalized", "/lean/v0/blocks/finalized"] {
        let r = get(&fresh_app(&["a"]), path);
        assert_eq!((r.status, text(&r)), (503, "no_finalized_state\n"));
        assert_eq!(r.content_type, TEXT_PLAIN);
        let r = get(&stale_app(), path);
        assert_eq!((r.status, text(&r)), (503, "stale\n"));
        // A stale state is not revalidated either.
        let app = stale_app();
        let etag = app.bundle.as_ref().unwrap().state.etag.clone();
        let r = get_with(&app, path, Some(&etag));
        assert_eq!(r.status, 503);
    }
}

#[test]
fn fork_choice_of_a_majority_member() {
    let app = agreed_app();
    let r = get(&app, "/lean/v0/fork_choice");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"nodes\":[]}"[..]));
    let r = get(&fresh_app(&["a"]), "/lean/v0/fork_choice");
    assert_eq!((r.status, text(&r)), (503, "no_fork_choice\n"));
}

#[test]
fn a_client_gets_the_state_of_the_block_it_was_served_across_an_advance() {
    let mut app = agreed_app();
    let pairing = RefCell::new(Pairing::default());
    let client: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
    let get = |app: &AppState, path: &str, client: Option<IpAddr>| {
        let ctx = RouteContext {
            pairing: Some(&pairing),
            timeline_cache: None,
            ..ctx(app)
        };
        let input = RouteInput {
            method: Method::Get,
            target: path,
            if_none_match: None,
            client,
        };
        route(input, &ctx)
    };
    let block = get(&app, "/lean/v0/blocks/finalized", client);
    let old_root = block
        .header("Eth-Consensus-Block-Root")
        .unwrap()
        .to_string();
    // The checkpoint advances between the client's two requests.
    let next = crate::lean::Checkpoint {
        slot: 101,
        root: [0xcc; 32],
    };
    app.previous_bundle = app.bundle.take();
    app.bundle = Some(fixtures::bundle(next));
    let state = get(&app, "/lean/v0/states/finalized", client);
    assert_eq!(
        state.header("Eth-Consensus-Block-Root"),
        Some(old_root.as_str())
    );
    let previous = app.previous_bundle.as_ref().unwrap();
    assert_eq!(state.body.as_slice(), &previous.state.bytes[..]);
    // Another client, and this client's next sync, get the new bundle.
    let other = get(
        &app,
        "/lean/v0/states/finalized",
        Some("192.0.2.8".parse().unwrap()),
    );
    let new_root = format!("0x{}", "cc".repeat(32));
    assert_eq!(
        other.header("Eth-Consensus-Block-Root"),
        Some(new_root.as_str())
    );
    let again = get(&app, "/lean/v0/blocks/finalized", client);
    assert_eq!(
        again.header("Eth-Consensus-Block-Root"),
        Some(new_root.as_str())
    );
}
