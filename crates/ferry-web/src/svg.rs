//! The dependency view: the plan's work drawn as an SVG on the server, one
//! box per resource, in columns by dependency depth (a resource sits right
//! of everything it needs to exist first), with arrows from what is needed
//! to what waits on it. Solid arrows: needed before it can be created;
//! dashed: needed before its contents (rules, routes, policies) are set.
//! Boxes carry their status class, so the page recolours them live.

use crate::html::esc;
use crate::status::Status;
use ferry_core::plan::{Plan, PlanItem};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

const BOX_W: i32 = 250;
const BOX_H: i32 = 40;
const COL_GAP: i32 = 90;
const ROW_GAP: i32 = 14;
const MARGIN: i32 = 24;
const LEGEND_H: i32 = 34;
/// Longest label that fits a box (longer ones end in an ellipsis).
const LABEL_CHARS: usize = 34;

/// Colours shared with the page's stylesheet, so a saved SVG is readable
/// on its own.
const STYLE: &str = "
.node rect{stroke:#333;stroke-width:1;rx:5}
.st-queued rect{fill:#f8b4b4}.st-running rect{fill:#fde68a}.st-done rect{fill:#a7e3b0}
.st-failed rect{fill:#b91c1c}.st-failed text{fill:#fff}.st-stranded rect{fill:#d1d5db}
.node text{font:12px monospace}.node .sub{font-size:10px;fill:#444}.st-failed .sub{fill:#eee}
.edge{fill:none;stroke:#667;stroke-width:1.2;marker-end:url(#arrow)}.edge.contents{stroke-dasharray:5 4}
.edge.hl{stroke:#1d4ed8;stroke-width:2.5}.node.hl rect{stroke:#1d4ed8;stroke-width:3}
.legend text{font:12px sans-serif}
";

struct Laid<'a> {
    item: &'a PlanItem,
    layer: usize,
    row: usize,
}

/// Depth of each item: 0 without executing dependencies, else one more
/// than its deepest dependency (create-phase ones, which form no cycle;
/// a cycle in a hand-edited plan is cut where it is found).
fn layers(items: &[&PlanItem]) -> HashMap<String, usize> {
    let by_key: HashMap<String, &PlanItem> =
        items.iter().map(|i| (i.key.to_string(), *i)).collect();
    fn depth(
        key: &str,
        by_key: &HashMap<String, &PlanItem>,
        memo: &mut HashMap<String, usize>,
        visiting: &mut HashSet<String>,
    ) -> usize {
        if let Some(d) = memo.get(key) {
            return *d;
        }
        if !visiting.insert(key.to_string()) {
            return 0;
        }
        let d = by_key[key]
            .depends_on
            .iter()
            .map(|k| k.to_string())
            .filter(|k| by_key.contains_key(k) && k != key)
            .map(|k| depth(&k, by_key, memo, visiting) + 1)
            .max()
            .unwrap_or(0);
        visiting.remove(key);
        memo.insert(key.to_string(), d);
        d
    }
    let mut memo = HashMap::new();
    for i in items {
        depth(&i.key.to_string(), &by_key, &mut memo, &mut HashSet::new());
    }
    memo
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// The SVG document. `statuses` maps `kind/id` to the resource's status
/// (missing: queued).
pub fn render(plan: &Plan, statuses: &HashMap<String, Status>) -> String {
    let items: Vec<&PlanItem> = plan.items.iter().filter(|i| i.action.executes()).collect();
    if items.is_empty() {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"deps\" width=\"420\" height=\"60\"><style>{STYLE}</style><text x=\"{MARGIN}\" y=\"34\" font-family=\"sans-serif\">Nothing to do: the plan has no work.</text></svg>"
        );
    }
    let depth = layers(&items);
    let mut columns: BTreeMap<usize, Vec<&PlanItem>> = BTreeMap::new();
    for i in &items {
        columns
            .entry(depth[&i.key.to_string()])
            .or_default()
            .push(i);
    }
    // Order each column by the mean row of its dependencies (fewer
    // crossings), then by service and key so the drawing is stable.
    let mut row_of: HashMap<String, usize> = HashMap::new();
    let mut laid: Vec<Laid> = vec![];
    for (layer, mut col) in columns {
        let bary = |i: &PlanItem| -> f64 {
            let rows: Vec<usize> = i
                .depends_on
                .iter()
                .filter_map(|k| row_of.get(&k.to_string()).copied())
                .collect();
            if rows.is_empty() {
                f64::MAX
            } else {
                rows.iter().sum::<usize>() as f64 / rows.len() as f64
            }
        };
        col.sort_by(|a, b| {
            bary(a)
                .total_cmp(&bary(b))
                .then_with(|| a.key.kind.service().cmp(b.key.kind.service()))
                .then_with(|| a.key.cmp(&b.key))
        });
        for (row, item) in col.into_iter().enumerate() {
            row_of.insert(item.key.to_string(), row);
            laid.push(Laid { item, layer, row });
        }
    }
    let cols = laid.iter().map(|l| l.layer).max().unwrap_or(0) as i32 + 1;
    let rows = laid.iter().map(|l| l.row).max().unwrap_or(0) as i32 + 1;
    let width = 2 * MARGIN + cols * BOX_W + (cols - 1) * COL_GAP;
    let height = 2 * MARGIN + LEGEND_H + rows * BOX_H + (rows - 1) * ROW_GAP;
    let pos: HashMap<String, (i32, i32)> = laid
        .iter()
        .map(|l| {
            let x = MARGIN + l.layer as i32 * (BOX_W + COL_GAP);
            let y = MARGIN + LEGEND_H + l.row as i32 * (BOX_H + ROW_GAP);
            (l.item.key.to_string(), (x, y))
        })
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"deps\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<style>{STYLE}</style>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#667\"/></marker></defs>\n"
    );
    legend(&mut out);
    // Edges first, so boxes sit on top of them.
    let mut needed_by: HashMap<String, Vec<String>> = HashMap::new();
    for l in &laid {
        let to = l.item.key.to_string();
        let create: HashSet<String> = l.item.depends_on.iter().map(|k| k.to_string()).collect();
        let contents = l
            .item
            .contents_depend_on
            .iter()
            .map(|k| k.to_string())
            .filter(|k| !create.contains(k));
        let deps = create
            .iter()
            .cloned()
            .map(|k| (k, "create"))
            .chain(contents.map(|k| (k, "contents")));
        let mut deps: Vec<(String, &str)> = deps.filter(|(k, _)| *k != to).collect();
        deps.sort();
        for (from, phase) in deps {
            let Some(&(x1, y1)) = pos.get(&from) else {
                continue;
            };
            needed_by.entry(from.clone()).or_default().push(to.clone());
            let (x2, y2) = pos[&to];
            let (sx, sy, ex, ey) = if x1 < x2 {
                (x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2)
            } else {
                // Same column or backwards (a contents dependency): leave
                // from the bottom and come in from the top.
                (x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2)
            };
            let bend = ((ex - sx).abs() / 2).max(30);
            let (c1, c2) = if x1 < x2 {
                (format!("{} {sy}", sx + bend), format!("{} {ey}", ex - bend))
            } else {
                (format!("{sx} {}", sy + bend), format!("{ex} {}", ey - bend))
            };
            let class = if phase == "contents" {
                "edge contents"
            } else {
                "edge"
            };
            let _ = writeln!(
                out,
                "<path class=\"{class}\" data-from=\"{}\" data-to=\"{}\" d=\"M{sx} {sy} C{c1}, {c2}, {ex} {ey}\"/>",
                esc(&from),
                esc(&to)
            );
        }
    }
    for l in &laid {
        let key = l.item.key.to_string();
        let (x, y) = pos[&key];
        let status = statuses.get(&key).copied().unwrap_or(Status::Queued);
        let waits: Vec<String> = l
            .item
            .depends_on
            .iter()
            .chain(&l.item.contents_depend_on)
            .map(|k| k.to_string())
            .filter(|k| pos.contains_key(k) && *k != key)
            .collect();
        let mut title = format!("{key} ({})", l.item.action);
        if let Some(n) = &l.item.name {
            let _ = write!(title, " \"{n}\"");
        }
        if !waits.is_empty() {
            let _ = write!(title, "\nwaits on: {}", waits.join(", "));
        }
        if let Some(by) = needed_by.get(&key) {
            let _ = write!(title, "\nneeded by: {}", by.join(", "));
        }
        let sub = format!(
            "{} · {}{}",
            l.item.key.kind.service(),
            l.item.action,
            l.item
                .name
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "<g class=\"node st-{}\" data-key=\"{}\" transform=\"translate({x},{y})\"><title>{}</title><rect width=\"{BOX_W}\" height=\"{BOX_H}\"/><text x=\"8\" y=\"16\">{}</text><text class=\"sub\" x=\"8\" y=\"31\">{}</text></g>",
            status.as_str(),
            esc(&key),
            esc(&title),
            esc(&truncate(&key, LABEL_CHARS)),
            esc(&truncate(&sub, LABEL_CHARS + 8)),
        );
    }
    out.push_str("</svg>\n");
    out
}

fn legend(out: &mut String) {
    let mut x = MARGIN;
    out.push_str("<g class=\"legend\">");
    for s in [
        Status::Queued,
        Status::Running,
        Status::Done,
        Status::Failed,
        Status::Stranded,
    ] {
        let _ = write!(
            out,
            "<g class=\"node st-{0}\" transform=\"translate({x},{MARGIN})\"><rect width=\"14\" height=\"14\"/></g><text x=\"{1}\" y=\"{2}\">{0}</text>",
            s.as_str(),
            x + 20,
            MARGIN + 12
        );
        x += 100;
    }
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"{}\">solid arrow: needed to create · dashed: needed for its contents</text>",
        MARGIN + 12
    );
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::tests::plan;

    fn boxes(svg: &str) -> Vec<(String, i32, i32)> {
        svg.split("<g class=\"node st-")
            .skip(1)
            .filter(|g| g.contains("data-key"))
            .map(|g| {
                let key = g
                    .split("data-key=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let t = g
                    .split("translate(")
                    .nth(1)
                    .unwrap()
                    .split(')')
                    .next()
                    .unwrap();
                let (x, y) = t.split_once(',').unwrap();
                (key.to_string(), x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn resources_sit_right_of_what_they_need_with_arrows_between() {
        let p = plan();
        let svg = render(&p, &HashMap::new());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        let b = boxes(&svg);
        let x = |k: &str| b.iter().find(|(key, ..)| key == k).unwrap().1;
        // Only the work is drawn: the skipped role is not.
        assert_eq!(b.len(), 4);
        assert!(!svg.contains("iam_role/admin"));
        assert_eq!(x("vpc/vpc-1"), x("s3_bucket/logs"));
        assert!(x("subnet/subnet-1") > x("vpc/vpc-1"));
        assert_eq!(x("security_group/sg-1"), x("subnet/subnet-1"));
        // Two create dependencies (solid), one contents dependency (dashed).
        assert_eq!(svg.matches("<path class=\"edge\"").count(), 2);
        assert_eq!(svg.matches("<path class=\"edge contents\"").count(), 1);
        assert!(svg.contains("data-from=\"subnet/subnet-1\" data-to=\"security_group/sg-1\""));
        assert!(svg.contains("waits on: vpc/vpc-1, subnet/subnet-1"));
        assert!(svg.contains("needed by: subnet/subnet-1, security_group/sg-1"));
        // Everything queued without statuses.
        assert_eq!(svg.matches("class=\"node st-queued\" data-key").count(), 4);
    }

    #[test]
    fn statuses_colour_the_boxes_and_text_is_escaped() {
        let mut p = plan();
        p.items[0].name = Some("a<b & \"c\"".into());
        let statuses: HashMap<String, Status> = [
            ("vpc/vpc-1".to_string(), Status::Done),
            ("subnet/subnet-1".to_string(), Status::Running),
            ("s3_bucket/logs".to_string(), Status::Failed),
        ]
        .into();
        let svg = render(&p, &statuses);
        assert!(svg.contains("class=\"node st-done\" data-key=\"vpc/vpc-1\""));
        assert!(svg.contains("class=\"node st-running\" data-key=\"subnet/subnet-1\""));
        assert!(svg.contains("class=\"node st-failed\" data-key=\"s3_bucket/logs\""));
        assert!(svg.contains("class=\"node st-queued\" data-key=\"security_group/sg-1\""));
        assert!(svg.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(!svg.contains("a<b"));
    }

    #[test]
    fn a_plan_without_work_says_so() {
        let mut p = plan();
        p.items.retain(|i| !i.action.executes());
        let svg = render(&p, &HashMap::new());
        assert!(svg.contains("Nothing to do"));
    }

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
