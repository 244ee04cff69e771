//! Tests of the justified-checkpoint and fork-choice parsers against live bodies,
//! leanSpec's API vectors and hand-made variants (key order, extra keys, bad values).

use super::*;
use crate::lean::root_hex;

/// The `expectedBody` of a leanSpec API vector, re-serialized as a body.
fn spec_body(json: &str) -> Vec<u8> {
    let v: Value = serde_json::from_str(json).unwrap();
    let (_, case) = v.as_object().unwrap().iter().next().unwrap();
    serde_json::to_vec(&case["expectedBody"]).unwrap()
}

const D48A: &str = "0xd48a550951e453a948139b5855d5e7493e99fa379b0b767a638d9bd46e6c5be1";
const GENESIS_4V: &str = "0xbc34b3027b81cea4e2789830683d654bce677d5ec8c72dfd2e1eaf61753e9d27";

#[test]
fn live_justified_checkpoint() {
    let cp = parse_checkpoint(include_bytes!("testdata/checkpoints_justified.body")).unwrap();
    assert_eq!(cp.slot, 19);
    assert_eq!(root_hex(&cp.root), D48A);
}

#[test]
fn spec_justified_checkpoints() {
    let cases = [
        (
            include_str!("testdata/test_justified_checkpoint_4v.json"),
            0,
            GENESIS_4V,
        ),
        (
            include_str!("testdata/test_justified_checkpoint_8v.json"),
            0,
            "0xf0842b4c0bdd1150e152945f9f5425d9bce43c1e63fb9d84212100bd7b6efa53",
        ),
        (
            include_str!("testdata/test_justified_checkpoint_at_slot_3.json"),
            3,
            "0x6f9fdb04b07a5e2b119625c88d81121bc2e6ab3a16c60ba43fd34f73297aca34",
        ),
    ];
    for (json, slot, root) in cases {
        let cp = parse_checkpoint(&spec_body(json)).unwrap();
        assert_eq!((cp.slot, root_hex(&cp.root).as_str()), (slot, root));
    }
}

#[test]
fn checkpoint_key_order_extra_keys_and_case() {
    let a = parse_checkpoint(format!(r#"{{"root":"{D48A}","slot":19}}"#).as_bytes()).unwrap();
    let b = parse_checkpoint(
        format!(
            r#" {{"epoch":2,"slot":19,"x":{{"y":[]}},"root":"{}"}} "#,
            D48A.to_uppercase().replace("0X", "0x")
        )
        .as_bytes(),
    )
    .unwrap();
    let c = parse_checkpoint(format!(r#"{{"slot":"19","root":"{D48A}"}}"#).as_bytes()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.slot, 19);
}

#[test]
fn checkpoint_errors() {
    let bad = |body: String| parse_checkpoint(body.as_bytes()).unwrap_err();
    assert!(matches!(bad("{\"slot\":1,".into()), JsonError::Syntax(_)));
    assert!(matches!(bad(String::new()), JsonError::Syntax(_)));
    assert!(matches!(bad("<html>".into()), JsonError::Syntax(_)));
    assert_eq!(bad("[1,2]".into()), JsonError::Field("checkpoint"));
    assert_eq!(
        bad(format!(r#"{{"root":"{D48A}"}}"#)),
        JsonError::Field("slot")
    );
    for slot in [
        "-1",
        "1.5",
        "1e3",
        "null",
        "true",
        "\"\"",
        "\"-1\"",
        "\"0x10\"",
        "18446744073709551616",
    ] {
        let body = format!(r#"{{"slot":{slot},"root":"{D48A}"}}"#);
        assert_eq!(bad(body), JsonError::Field("slot"), "slot {slot}");
    }
    assert_eq!(bad(r#"{"slot":1}"#.into()), JsonError::Field("root"));
    assert_eq!(
        bad(r#"{"slot":1,"root":7}"#.into()),
        JsonError::Field("root")
    );
    assert_eq!(
        bad(r#"{"slot":1,"root":"0x1234"}"#.into()),
        JsonError::Root("0x1234".into())
    );
}

#[test]
fn roots() {
    let r = parse_root(D48A).unwrap();
    assert_eq!(root_hex(&r), D48A);
    assert_eq!(parse_root(&D48A.to_uppercase()).unwrap(), r);
    let no_prefix = &D48A[2..];
    assert!(parse_root(no_prefix).is_err());
    assert!(parse_root(&format!("{D48A}00")).is_err());
    assert!(parse_root(&D48A[..65]).is_err());
    assert!(parse_root(&D48A.replace('d', "g")).is_err());
    assert!(parse_root(&format!("0x{}", "é".repeat(32))).is_err());
    // Long bad roots are echoed truncated, on a character boundary.
    let long = format!("0x{}", "é".repeat(100));
    match parse_root(&long) {
        Err(JsonError::Root(echo)) => assert!(echo.len() <= ROOT_ECHO_MAX + 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn live_fork_choice() {
    let fc = parse_fork_choice(include_bytes!("testdata/fork_choice.body")).unwrap();
    assert_eq!(
        root_hex(&fc.head_root),
        "0x768fcda907ac7883ae3ff3c5b912143d57b76ba4c8c46a5162cf18e026141d14"
    );
    assert_eq!(fc.head_slot, Some(21));
    assert_eq!(fc.justified.slot, 19);
    assert_eq!(root_hex(&fc.justified.root), D48A);
    assert_eq!(fc.finalized.slot, 18);
    assert_eq!(fc.node_count, 4);
    assert_eq!(fc.validator_count, Some(4));
}

#[test]
fn spec_fork_choices() {
    let cases = [
        (include_str!("testdata/test_fork_choice_4v.json"), 0, 4),
        (include_str!("testdata/test_fork_choice_8v.json"), 0, 8),
        (
            include_str!("testdata/test_fork_choice_tree_at_slot_3.json"),
            3,
            4,
        ),
    ];
    for (json, slot, validators) in cases {
        let fc = parse_fork_choice(&spec_body(json)).unwrap();
        assert_eq!(fc.head_slot, Some(slot));
        assert_eq!(fc.justified.slot, slot);
        assert_eq!(fc.finalized.slot, slot);
        assert_eq!(fc.justified.root, fc.head_root);
        assert_eq!(fc.node_count, 1);
        assert_eq!(fc.validator_count, Some(validators));
    }
}

fn fork_choice_with(nodes: &str, validator_count: &str) -> String {
    format!(
        r#"{{"validator_count":{validator_count},"safe_target":null,"finalized":{{"root":"{GENESIS_4V}","slot":0}},
        "justified":{{"slot":0,"root":"{GENESIS_4V}"}},"head":"{D48A}"{nodes}}}"#
    )
}

#[test]
fn fork_choice_tolerance() {
    let node = format!(r#"{{"slot":7,"root":"{D48A}","weight":1}}"#);
    let body = fork_choice_with(&format!(r#","nodes":[1,{{"root":"zz"}},{node}]"#), "null");
    let fc = parse_fork_choice(body.as_bytes()).unwrap();
    assert_eq!(
        (fc.head_slot, fc.node_count, fc.validator_count),
        (Some(7), 3, None)
    );

    // Head not among the nodes, no nodes key, validator_count of the wrong type.
    let fc = parse_fork_choice(fork_choice_with("", "\"4\"").as_bytes()).unwrap();
    assert_eq!(
        (fc.head_slot, fc.node_count, fc.validator_count),
        (None, 0, None)
    );
    let fc = parse_fork_choice(fork_choice_with(r#","nodes":null"#, "-1").as_bytes()).unwrap();
    assert_eq!(
        (fc.head_slot, fc.node_count, fc.validator_count),
        (None, 0, None)
    );
    assert_eq!(fc.justified.root, parse_root(GENESIS_4V).unwrap());
}

#[test]
fn fork_choice_errors() {
    let err = |s: &str| parse_fork_choice(s.as_bytes()).unwrap_err();
    let good = fork_choice_with("", "4");
    assert!(parse_fork_choice(good.as_bytes()).is_ok());
    assert_eq!(err("[]"), JsonError::Field("fork_choice"));
    assert!(matches!(err(&good[..good.len() - 1]), JsonError::Syntax(_)));
    assert_eq!(
        err(&good.replace("\"head\"", "\"heads\"")),
        JsonError::Field("head")
    );
    assert_eq!(
        err(&good.replace("\"justified\"", "\"j\"")),
        JsonError::Field("justified")
    );
    assert_eq!(
        err(&good.replace("\"finalized\"", "\"f\"")),
        JsonError::Field("finalized")
    );
    assert_eq!(
        err(&fork_choice_with(r#","nodes":{}"#, "4")),
        JsonError::Field("nodes")
    );
    assert!(matches!(
        err(&good.replace(D48A, "0xdead")),
        JsonError::Root(r) if r == "0xdead"
    ));
    assert_eq!(
        err(&good.replace(r#""slot":0,"root""#, r#""slot":-3,"root""#)),
        JsonError::Field("slot")
    );
}
