//! Field-by-field comparison of two JSON specs, for verify's report and for
//! the planner's "up to date / update" decision.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// Where: `ingress[2].peer`, `tags.team`, `cidr_block`.
    pub path: String,
    /// What the source says, translated into destination terms (null: absent).
    pub expected: Value,
    /// What the destination has (null: absent).
    pub actual: Value,
}

/// Differences between `expected` and `actual`. Arrays are compared as sets
/// when their lengths differ (ferry's specs keep lists sorted, so equal sets
/// serialise equally): the report then lists missing and unexpected elements
/// rather than a cascade of shifted indices.
pub fn diff(expected: &Value, actual: &Value) -> Vec<Difference> {
    let mut out = vec![];
    walk("", expected, actual, &mut out);
    out
}

/// [`diff`] of two specs of `kind`, leaving out the fields its rules say
/// only describe how to create it
/// ([`crate::rules::KindRules::uncompared_fields`]).
pub fn diff_spec(kind: crate::Kind, expected: &Value, actual: &Value) -> Vec<Difference> {
    let fields = kind.rules().uncompared_fields(expected);
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            for f in &fields {
                m.remove(*f);
            }
        }
        v
    };
    diff(&strip(expected), &strip(actual))
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn walk(path: &str, e: &Value, a: &Value, out: &mut Vec<Difference>) {
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            for (k, ev) in em {
                let av = am.get(k).unwrap_or(&Value::Null);
                walk(&join(path, k), ev, av, out);
            }
            for (k, av) in am {
                if !em.contains_key(k) && !av.is_null() {
                    walk(&join(path, k), &Value::Null, av, out);
                }
            }
        }
        // Lists of references are sets: translation through the mapping
        // changes the IDs and so the sorted order.
        (Value::Array(ea), Value::Array(aa)) if holds_refs(ea) || holds_refs(aa) => {
            let mut es: Vec<&Value> = ea.iter().collect();
            let mut as_: Vec<&Value> = aa.iter().collect();
            es.sort_by_key(|v| v.to_string());
            as_.sort_by_key(|v| v.to_string());
            if es != as_ {
                set_difference(path, ea, aa, out);
            }
        }
        (Value::Array(ea), Value::Array(aa)) if ea.len() == aa.len() => {
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                walk(&format!("{path}[{i}]"), ev, av, out);
            }
        }
        (Value::Array(ea), Value::Array(aa)) => set_difference(path, ea, aa, out),
        _ if e == a => {}
        _ => out.push(Difference {
            path: path.to_string(),
            expected: e.clone(),
            actual: a.clone(),
        }),
    }
}

fn holds_refs(a: &[Value]) -> bool {
    a.iter().any(|v| !crate::resource::refs_in(v).is_empty())
}

fn set_difference(path: &str, ea: &[Value], aa: &[Value], out: &mut Vec<Difference>) {
    {
        {
            for ev in ea.iter().filter(|x| !aa.contains(x)) {
                out.push(Difference {
                    path: format!("{path}[]"),
                    expected: ev.clone(),
                    actual: Value::Null,
                });
            }
            for av in aa.iter().filter(|x| !ea.contains(x)) {
                out.push(Difference {
                    path: format!("{path}[]"),
                    expected: Value::Null,
                    actual: av.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_specs_have_no_differences() {
        let v = json!({"a": 1, "b": [1, 2], "c": {"d": null}});
        assert!(diff(&v, &v.clone()).is_empty());
        assert!(
            diff(&json!({"x": null}), &json!({})).is_empty(),
            "absent equals null"
        );
    }

    #[test]
    fn reference_lists_compare_as_sets() {
        let e = json!({"associations": [{"$ref": "subnet/subnet-b"}, {"$ref": "subnet/subnet-a"}]});
        let a = json!({"associations": [{"$ref": "subnet/subnet-a"}, {"$ref": "subnet/subnet-b"}]});
        assert!(diff(&e, &a).is_empty());
        let a = json!({"associations": [{"$ref": "subnet/subnet-a"}, {"$ref": "subnet/subnet-c"}]});
        let d = diff(&e, &a);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].expected, json!({"$ref": "subnet/subnet-b"}));
        assert_eq!(d[1].actual, json!({"$ref": "subnet/subnet-c"}));
        // Plain lists keep their order (DHCP name servers).
        assert_eq!(
            diff(
                &json!(["1.1.1.1", "8.8.8.8"]),
                &json!(["8.8.8.8", "1.1.1.1"])
            )
            .len(),
            2
        );
    }

    #[test]
    fn reports_paths_and_set_differences() {
        let e = json!({"cidr": "10.0.0.0/16", "rules": [{"p": 22}, {"p": 80}], "dns": {"support": true}});
        let a = json!({"cidr": "10.1.0.0/16", "rules": [{"p": 80}], "dns": {"support": false}, "extra": 1});
        let d = diff(&e, &a);
        let paths: Vec<_> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, vec!["cidr", "rules[]", "dns.support", "extra"]);
        assert_eq!(d[1].expected, json!({"p": 22}));
        assert_eq!(d[1].actual, Value::Null);
    }

    #[test]
    fn create_only_fields_and_instance_image_devices_are_not_compared() {
        use crate::Kind;
        let e = json!({"name": "ferry-i-1", "from_instance": "i-1", "no_reboot": true, "block_devices": []});
        let a = json!({"name": "ferry-i-1", "block_devices": [{"device_name": "/dev/sda1"}]});
        assert!(diff_spec(Kind::Image, &e, &a).is_empty());
        let e = json!({"name": "golden", "block_devices": []});
        assert!(!diff_spec(Kind::Image, &e, &a).is_empty());
        let e = json!({"instance_type": "t3.micro", "private_ip": "10.0.0.5"});
        let a = json!({"instance_type": "t3.micro", "private_ip": "10.0.0.9"});
        assert!(diff_spec(Kind::Instance, &e, &a).is_empty());
        assert_eq!(diff(&e, &a).len(), 1);
    }
}
