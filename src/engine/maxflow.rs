//! Minimum s-t cut by the Boykov–Kolmogorov augmenting-path algorithm ("An Experimental
//! Comparison of Min-Cut/Max-Flow Algorithms for Energy Minimization in Vision", PAMI 2004): two
//! search trees grown from the terminals and reused between augmentations, which is what makes
//! it fast on image grids.

use std::collections::VecDeque;

const NONE: u32 = u32::MAX;
const TERMINAL: u32 = u32::MAX - 1;
const ORPHAN: u32 = u32::MAX - 2;

/// Capacities are solved in fixed point: floating-point residuals that should be zero but are
/// 1e-8 make the algorithm push endless vanishing flows.
const SCALE: f32 = 1024.0;

#[derive(Clone, Copy)]
struct Arc {
    head: u32,
    sister: u32,
    /// Residual capacity from the arc's tail to its head, in 1/SCALE units.
    cap: i32,
}

fn fixed(v: f32) -> i32 {
    (v * SCALE).round().clamp(-1e9, 1e9) as i32
}

/// A graph under construction: add nodes' terminal capacities and undirected edges, then `cut`.
pub struct GraphBuilder {
    /// Source capacity minus sink capacity of each node (only the difference matters).
    tr_cap: Vec<f32>,
    edges: Vec<(u32, u32, f32, f32)>,
}

impl GraphBuilder {
    pub fn new(nodes: usize) -> Self {
        Self { tr_cap: vec![0.0; nodes], edges: Vec::new() }
    }

    /// Capacity from the source to `i` (the cost of putting `i` on the sink side) and from `i`
    /// to the sink (the cost of putting it on the source side).
    pub fn add_terminal(&mut self, i: usize, source: f32, sink: f32) {
        self.tr_cap[i] += source - sink;
    }

    /// An edge with capacity `cap_ij` from i to j and `cap_ji` back.
    pub fn add_edge(&mut self, i: usize, j: usize, cap_ij: f32, cap_ji: f32) {
        self.edges.push((i as u32, j as u32, cap_ij, cap_ji));
    }

    /// Solve. Returns the flow value and, per node, `true` when it lies on the source side.
    /// `cancelled` is polled every few thousand augmentations; a cancelled solve returns `None`.
    pub fn cut(self, cancelled: &dyn Fn() -> bool) -> Option<(f64, Vec<bool>)> {
        let tr: Vec<i32> = self.tr_cap.iter().map(|&c| fixed(c)).collect();
        let edges: Vec<(u32, u32, i32, i32)> =
            self.edges.iter().map(|&(i, j, a, b)| (i, j, fixed(a.max(0.0)), fixed(b.max(0.0)))).collect();
        let mut g = Graph::new(tr, &edges);
        let flow = g.maxflow(cancelled)? as f64 / SCALE as f64;
        let side = (0..g.parent.len()).map(|i| g.parent[i] != NONE && !g.is_sink[i]).collect();
        Some((flow, side))
    }
}

struct Graph {
    first: Vec<u32>,
    arcs: Vec<Arc>,
    tr_cap: Vec<i32>,
    parent: Vec<u32>,
    is_sink: Vec<bool>,
    ts: Vec<u32>,
    dist: Vec<u32>,
    in_active: Vec<bool>,
    active: VecDeque<u32>,
    orphans: VecDeque<u32>,
    time: u32,
}

impl Graph {
    fn new(tr_cap: Vec<i32>, edges: &[(u32, u32, i32, i32)]) -> Self {
        let n = tr_cap.len();
        let mut degree = vec![0u32; n + 1];
        for &(i, j, _, _) in edges {
            degree[i as usize + 1] += 1;
            degree[j as usize + 1] += 1;
        }
        for k in 1..=n {
            degree[k] += degree[k - 1];
        }
        let first = degree.clone();
        let mut fill = degree;
        let mut arcs = vec![Arc { head: 0, sister: 0, cap: 0 }; edges.len() * 2];
        for &(i, j, cij, cji) in edges {
            let a = fill[i as usize];
            fill[i as usize] += 1;
            let b = fill[j as usize];
            fill[j as usize] += 1;
            arcs[a as usize] = Arc { head: j, sister: b, cap: cij };
            arcs[b as usize] = Arc { head: i, sister: a, cap: cji };
        }
        Self {
            first,
            arcs,
            tr_cap,
            parent: vec![NONE; n],
            is_sink: vec![false; n],
            ts: vec![0; n],
            dist: vec![0; n],
            in_active: vec![false; n],
            active: VecDeque::new(),
            orphans: VecDeque::new(),
            time: 0,
        }
    }

    fn arcs_of(&self, i: u32) -> std::ops::Range<usize> {
        self.first[i as usize] as usize..self.first[i as usize + 1] as usize
    }

    fn set_active(&mut self, i: u32) {
        if !self.in_active[i as usize] {
            self.in_active[i as usize] = true;
            self.active.push_back(i);
        }
    }

    fn next_active(&mut self) -> Option<u32> {
        while let Some(i) = self.active.pop_front() {
            self.in_active[i as usize] = false;
            if self.parent[i as usize] != NONE {
                return Some(i);
            }
        }
        None
    }

    fn maxflow(&mut self, cancelled: &dyn Fn() -> bool) -> Option<i64> {
        let n = self.tr_cap.len();
        let mut flow = 0i64;
        for i in 0..n {
            let c = self.tr_cap[i];
            if c > 0 {
                self.is_sink[i] = false;
                self.parent[i] = TERMINAL;
                self.set_active(i as u32);
                self.dist[i] = 1;
            } else if c < 0 {
                self.is_sink[i] = true;
                self.parent[i] = TERMINAL;
                self.set_active(i as u32);
                self.dist[i] = 1;
            }
        }
        let mut current: Option<u32> = None;
        let mut steps = 0u32;
        loop {
            steps += 1;
            if steps % 4096 == 0 && cancelled() {
                return None;
            }
            let i = match current.filter(|&i| self.parent[i as usize] != NONE) {
                Some(i) => i,
                None => match self.next_active() {
                    Some(i) => i,
                    None => break,
                },
            };
            current = None;
            let middle = self.grow(i);
            self.time += 1;
            if let Some(a) = middle {
                // Keep growing from i after this augmentation.
                current = Some(i);
                flow += self.augment(a) as i64;
                self.adopt_orphans();
            }
        }
        Some(flow)
    }

    /// Grow the tree of `i` by one node's neighbourhood; returns an arc from the source tree to
    /// the sink tree when the trees touch.
    fn grow(&mut self, i: u32) -> Option<usize> {
        let iu = i as usize;
        for a in self.arcs_of(i) {
            let arc = self.arcs[a];
            let j = arc.head as usize;
            if !self.is_sink[iu] {
                if arc.cap <= 0 {
                    continue;
                }
                if self.parent[j] == NONE {
                    self.is_sink[j] = false;
                    self.parent[j] = arc.sister;
                    self.ts[j] = self.ts[iu];
                    self.dist[j] = self.dist[iu] + 1;
                    self.set_active(j as u32);
                } else if self.is_sink[j] {
                    return Some(a);
                } else if self.ts[j] <= self.ts[iu] && self.dist[j] > self.dist[iu] {
                    self.parent[j] = arc.sister;
                    self.ts[j] = self.ts[iu];
                    self.dist[j] = self.dist[iu] + 1;
                }
            } else {
                if self.arcs[arc.sister as usize].cap <= 0 {
                    continue;
                }
                if self.parent[j] == NONE {
                    self.is_sink[j] = true;
                    self.parent[j] = arc.sister;
                    self.ts[j] = self.ts[iu];
                    self.dist[j] = self.dist[iu] + 1;
                    self.set_active(j as u32);
                } else if !self.is_sink[j] {
                    return Some(arc.sister as usize);
                } else if self.ts[j] <= self.ts[iu] && self.dist[j] > self.dist[iu] {
                    self.parent[j] = arc.sister;
                    self.ts[j] = self.ts[iu];
                    self.dist[j] = self.dist[iu] + 1;
                }
            }
        }
        None
    }

    /// Push the bottleneck along source → middle arc → sink; saturated tree arcs orphan nodes.
    fn augment(&mut self, middle: usize) -> i32 {
        let mid = self.arcs[middle];
        let mut bottleneck = mid.cap;
        // Source side: walk from the middle arc's tail to the source.
        let mut i = self.arcs[mid.sister as usize].head as usize;
        loop {
            let a = self.parent[i];
            if a == TERMINAL {
                break;
            }
            let arc = self.arcs[a as usize];
            bottleneck = bottleneck.min(self.arcs[arc.sister as usize].cap);
            i = arc.head as usize;
        }
        bottleneck = bottleneck.min(self.tr_cap[i]);
        // Sink side.
        let mut i = mid.head as usize;
        loop {
            let a = self.parent[i];
            if a == TERMINAL {
                break;
            }
            let arc = self.arcs[a as usize];
            bottleneck = bottleneck.min(arc.cap);
            i = arc.head as usize;
        }
        bottleneck = bottleneck.min(-self.tr_cap[i]);

        self.arcs[mid.sister as usize].cap += bottleneck;
        self.arcs[middle].cap -= bottleneck;
        let mut i = self.arcs[mid.sister as usize].head as usize;
        loop {
            let a = self.parent[i];
            if a == TERMINAL {
                break;
            }
            let arc = self.arcs[a as usize];
            self.arcs[a as usize].cap += bottleneck;
            self.arcs[arc.sister as usize].cap -= bottleneck;
            if self.arcs[arc.sister as usize].cap <= 0 {
                self.parent[i] = ORPHAN;
                self.orphans.push_front(i as u32);
            }
            i = arc.head as usize;
        }
        self.tr_cap[i] -= bottleneck;
        if self.tr_cap[i] <= 0 {
            self.parent[i] = ORPHAN;
            self.orphans.push_front(i as u32);
        }
        let mut i = mid.head as usize;
        loop {
            let a = self.parent[i];
            if a == TERMINAL {
                break;
            }
            let arc = self.arcs[a as usize];
            self.arcs[arc.sister as usize].cap += bottleneck;
            self.arcs[a as usize].cap -= bottleneck;
            if self.arcs[a as usize].cap <= 0 {
                self.parent[i] = ORPHAN;
                self.orphans.push_front(i as u32);
            }
            i = arc.head as usize;
        }
        self.tr_cap[i] += bottleneck;
        if self.tr_cap[i] >= 0 {
            self.parent[i] = ORPHAN;
            self.orphans.push_front(i as u32);
        }
        bottleneck
    }

    fn adopt_orphans(&mut self) {
        while let Some(i) = self.orphans.pop_front() {
            self.process_orphan(i);
        }
    }

    /// Find a new parent in the same tree whose path to the terminal is valid; else free the
    /// node and orphan its children.
    fn process_orphan(&mut self, i: u32) {
        let iu = i as usize;
        let sink = self.is_sink[iu];
        let mut best: Option<(u32, u32)> = None; // (arc, distance)
        for a0 in self.arcs_of(i) {
            let arc = self.arcs[a0];
            // Capacity along the tree direction: towards i in the source tree, away in the sink tree.
            let cap = if sink { arc.cap } else { self.arcs[arc.sister as usize].cap };
            if cap <= 0 {
                continue;
            }
            let mut j = arc.head as usize;
            if self.is_sink[j] != sink || self.parent[j] == NONE {
                continue;
            }
            // Walk to the root, measuring the distance, unless the path is already known valid.
            let mut d = 0u32;
            let valid = loop {
                if self.ts[j] == self.time {
                    d += self.dist[j];
                    break true;
                }
                let a = self.parent[j];
                d += 1;
                if a == TERMINAL {
                    self.ts[j] = self.time;
                    self.dist[j] = 1;
                    break true;
                }
                if a == ORPHAN {
                    break false;
                }
                j = self.arcs[a as usize].head as usize;
            };
            if valid {
                if best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((a0 as u32, d));
                }
                // Mark the path so later searches stop early.
                let mut j = arc.head as usize;
                let mut dd = d;
                while self.ts[j] != self.time {
                    self.ts[j] = self.time;
                    self.dist[j] = dd;
                    dd = dd.saturating_sub(1);
                    j = self.arcs[self.parent[j] as usize].head as usize;
                }
            }
        }
        if let Some((a, d)) = best {
            self.parent[iu] = a;
            self.ts[iu] = self.time;
            self.dist[iu] = d + 1;
            return;
        }
        self.parent[iu] = NONE;
        for a0 in self.arcs_of(i) {
            let arc = self.arcs[a0];
            let j = arc.head as usize;
            if self.is_sink[j] != sink {
                continue;
            }
            let pa = self.parent[j];
            if pa == NONE {
                continue;
            }
            let cap = if sink { arc.cap } else { self.arcs[arc.sister as usize].cap };
            if cap > 0 {
                self.set_active(j as u32);
            }
            if pa != TERMINAL && pa != ORPHAN && self.arcs[pa as usize].head == i {
                self.parent[j] = ORPHAN;
                self.orphans.push_back(j as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every labelling of a small graph.
    fn brute(n: usize, terms: &[(f32, f32)], edges: &[(usize, usize, f32, f32)]) -> f64 {
        let mut best = f64::INFINITY;
        for bits in 0..(1u32 << n) {
            let src = |i: usize| bits >> i & 1 == 1;
            let mut cost = 0.0f64;
            for (i, &(s, t)) in terms.iter().enumerate() {
                cost += if src(i) { t as f64 } else { s as f64 };
            }
            for &(i, j, cij, cji) in edges {
                if src(i) && !src(j) {
                    cost += cij as f64;
                }
                if src(j) && !src(i) {
                    cost += cji as f64;
                }
            }
            best = best.min(cost);
        }
        best
    }

    #[test]
    fn matches_brute_force_on_random_graphs() {
        let mut state = 99u32;
        let mut rnd = |m: u32| {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            (state >> 8) % m
        };
        for _ in 0..300 {
            let n = 2 + rnd(9) as usize;
            let terms: Vec<(f32, f32)> = (0..n).map(|_| (rnd(10) as f32, rnd(10) as f32)).collect();
            let mut edges = Vec::new();
            for _ in 0..rnd(20) {
                let (i, j) = (rnd(n as u32) as usize, rnd(n as u32) as usize);
                if i != j {
                    edges.push((i, j, rnd(8) as f32, rnd(8) as f32));
                }
            }
            let mut g = GraphBuilder::new(n);
            for (i, &(s, t)) in terms.iter().enumerate() {
                g.add_terminal(i, s, t);
            }
            for &(i, j, a, b) in &edges {
                g.add_edge(i, j, a, b);
            }
            let (flow, side) = g.cut(&|| false).unwrap();
            // The flow of terminal capacities cancelled by add_terminal's difference.
            let shared: f64 = terms.iter().map(|&(s, t)| s.min(t) as f64).sum();
            let want = brute(n, &terms, &edges);
            assert!((flow + shared - want).abs() < 1e-3, "flow {} + {shared} vs {want}", flow);
            // The returned labelling achieves the minimum.
            let mut cost = 0.0f64;
            for (i, &(s, t)) in terms.iter().enumerate() {
                cost += if side[i] { t as f64 } else { s as f64 };
            }
            for &(i, j, cij, cji) in &edges {
                if side[i] && !side[j] {
                    cost += cij as f64;
                }
                if side[j] && !side[i] {
                    cost += cji as f64;
                }
            }
            assert!((cost - want).abs() < 1e-3, "labelling cost {cost} vs {want}");
        }
    }
}
