//! The source -> destination ID mapping, in memory. The state crate persists
//! it; this is the pure view the translator and the planner work from.

use crate::kind::Kind;
use crate::resource::Key;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    forward: HashMap<Key, String>,
}

impl Mapping {
    pub fn new() -> Mapping {
        Mapping::default()
    }

    pub fn insert(&mut self, source: Key, dest_id: impl Into<String>) {
        self.forward.insert(source, dest_id.into());
    }

    pub fn remove(&mut self, source: &Key) {
        self.forward.remove(source);
    }

    pub fn get(&self, source: &Key) -> Option<&str> {
        self.forward.get(source).map(String::as_str)
    }

    pub fn contains(&self, source: &Key) -> bool {
        self.forward.contains_key(source)
    }

    pub fn len(&self) -> usize {
        self.forward.len()
    }

    pub fn is_empty(&self) -> bool {
        self.forward.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &str)> {
        self.forward.iter().map(|(k, v)| (k, v.as_str()))
    }

    /// Source bucket name -> destination bucket name, for the buckets mapped.
    pub fn buckets(&self) -> BTreeMap<String, String> {
        self.forward
            .iter()
            .filter(|(k, _)| k.kind == Kind::Bucket)
            .map(|(k, v)| (k.id.clone(), v.clone()))
            .collect()
    }
}

impl FromIterator<(Key, String)> for Mapping {
    fn from_iter<I: IntoIterator<Item = (Key, String)>>(iter: I) -> Mapping {
        Mapping {
            forward: iter.into_iter().collect(),
        }
    }
}
