//! The dependency graph as a plain data structure: a ready set, completion,
//! failure with the dependents it strands. No I/O and no async: the executor in
//! ferry-engine owns the tasks; this only says what may run next.
//! (Modelled on cargo's `dependency_queue.rs`.)

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    Waiting,
    Running,
    Done,
    Failed,
    /// Not run because something it depends on failed.
    Stranded,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle: {}", .0.join(" -> "))]
pub struct CycleError(pub Vec<String>);

#[derive(Debug, Clone)]
pub struct Dag<N> {
    nodes: Vec<N>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    waiting_on: Vec<usize>,
    state: Vec<NodeState>,
}

impl<N: Clone + Eq + Hash + std::fmt::Display> Dag<N> {
    /// Builds the graph; `edges` are (dependency, dependent). Edges naming
    /// unknown nodes are ignored (a dependency outside the graph is already
    /// satisfied: it was mapped before this run). Refuses cycles.
    pub fn new(nodes: Vec<N>, edges: &[(N, N)]) -> Result<Dag<N>, CycleError> {
        let index: HashMap<&N, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
        let n = nodes.len();
        let mut deps = vec![vec![]; n];
        let mut dependents = vec![vec![]; n];
        for (a, b) in edges {
            if let (Some(&ia), Some(&ib)) = (index.get(a), index.get(b)) {
                if ia != ib && !deps[ib].contains(&ia) {
                    deps[ib].push(ia);
                    dependents[ia].push(ib);
                }
            }
        }
        let waiting_on = deps.iter().map(Vec::len).collect();
        let dag = Dag {
            nodes,
            deps,
            dependents,
            waiting_on,
            state: vec![NodeState::Waiting; n],
        };
        dag.check_acyclic()?;
        Ok(dag)
    }

    fn check_acyclic(&self) -> Result<(), CycleError> {
        let order = self.topo_order();
        if order.len() == self.nodes.len() {
            return Ok(());
        }
        // Walk dependencies from a node left over until one repeats.
        let done: std::collections::HashSet<usize> = order.into_iter().collect();
        let start = (0..self.nodes.len())
            .find(|i| !done.contains(i))
            .expect("leftover");
        let mut path = vec![start];
        let mut cur = start;
        loop {
            let next = *self.deps[cur]
                .iter()
                .find(|d| !done.contains(d))
                .expect("cyclic dep");
            if let Some(pos) = path.iter().position(|&p| p == next) {
                let mut cycle: Vec<String> = path[pos..]
                    .iter()
                    .map(|&i| self.nodes[i].to_string())
                    .collect();
                cycle.push(self.nodes[next].to_string());
                return Err(CycleError(cycle));
            }
            path.push(next);
            cur = next;
        }
    }

    /// Kahn's order: every node after all of its dependencies.
    pub fn topo_order(&self) -> Vec<usize> {
        let mut left: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut queue: VecDeque<usize> = (0..self.nodes.len()).filter(|&i| left[i] == 0).collect();
        let mut out = Vec::with_capacity(self.nodes.len());
        while let Some(i) = queue.pop_front() {
            out.push(i);
            for &d in &self.dependents[i] {
                left[d] -= 1;
                if left[d] == 0 {
                    queue.push_back(d);
                }
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: usize) -> &N {
        &self.nodes[i]
    }

    pub fn state(&self, i: usize) -> NodeState {
        self.state[i]
    }

    /// Nodes whose dependencies are all done, marked running.
    pub fn take_ready(&mut self, max: usize) -> Vec<usize> {
        let mut out = vec![];
        for i in 0..self.nodes.len() {
            if out.len() >= max {
                break;
            }
            if self.state[i] == NodeState::Waiting && self.waiting_on[i] == 0 {
                self.state[i] = NodeState::Running;
                out.push(i);
            }
        }
        out
    }

    pub fn complete(&mut self, i: usize) {
        self.state[i] = NodeState::Done;
        for d in self.dependents[i].clone() {
            self.waiting_on[d] -= 1;
        }
    }

    /// Marks a node failed and returns every node it strands, transitively.
    pub fn fail(&mut self, i: usize) -> Vec<usize> {
        self.state[i] = NodeState::Failed;
        let mut stranded = vec![];
        let mut queue: VecDeque<usize> = self.dependents[i].iter().copied().collect();
        while let Some(d) = queue.pop_front() {
            if self.state[d] == NodeState::Waiting {
                self.state[d] = NodeState::Stranded;
                stranded.push(d);
                queue.extend(self.dependents[d].iter().copied());
            }
        }
        stranded
    }

    pub fn running(&self) -> usize {
        self.state
            .iter()
            .filter(|s| **s == NodeState::Running)
            .count()
    }

    /// Nothing is running and nothing more can start.
    pub fn is_finished(&self) -> bool {
        self.state
            .iter()
            .all(|s| !matches!(s, NodeState::Waiting | NodeState::Running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(
        nodes: &[&'static str],
        edges: &[(&'static str, &'static str)],
    ) -> Result<Dag<&'static str>, CycleError> {
        Dag::new(nodes.to_vec(), edges)
    }

    #[test]
    fn runs_in_dependency_order() {
        let mut g = dag(
            &["vpc", "subnet", "rt"],
            &[("vpc", "subnet"), ("subnet", "rt"), ("vpc", "rt")],
        )
        .unwrap();
        assert_eq!(g.take_ready(10), vec![0]);
        assert!(
            g.take_ready(10).is_empty(),
            "nothing else until vpc is done"
        );
        g.complete(0);
        assert_eq!(g.take_ready(10), vec![1]);
        g.complete(1);
        assert_eq!(g.take_ready(10), vec![2]);
        g.complete(2);
        assert!(g.is_finished());
    }

    #[test]
    fn respects_the_concurrency_bound() {
        let mut g = dag(&["a", "b", "c"], &[]).unwrap();
        assert_eq!(g.take_ready(2).len(), 2);
        assert_eq!(g.running(), 2);
        assert_eq!(g.take_ready(2).len(), 1);
    }

    #[test]
    fn failure_strands_dependents_transitively_only() {
        let mut g = dag(
            &["vpc", "subnet", "nat", "other"],
            &[("vpc", "subnet"), ("subnet", "nat")],
        )
        .unwrap();
        let ready = g.take_ready(10);
        assert_eq!(ready, vec![0, 3]);
        let stranded = g.fail(0);
        assert_eq!(stranded, vec![1, 2]);
        assert!(!g.is_finished(), "other still running");
        g.complete(3);
        assert!(g.is_finished());
        assert_eq!(g.state(2), NodeState::Stranded);
    }

    #[test]
    fn cycles_are_refused_with_the_path() {
        let err = dag(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "a")]).unwrap_err();
        assert_eq!(err.0.len(), 4);
        assert_eq!(err.0.first(), err.0.last());
    }

    #[test]
    fn edges_to_unknown_nodes_are_already_satisfied() {
        let mut g = dag(&["subnet"], &[("vpc", "subnet")]).unwrap();
        assert_eq!(g.take_ready(1), vec![0]);
    }
}
