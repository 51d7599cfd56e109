#!/usr/bin/env python3
"""Structure checks for the crate: the module import graph has no cycles, and no function outside
tests is longer than the limit.

    python3 scripts/check_structure.py [--max-fn-lines 120] [--graph]

Each source file is a module (src/lib.rs and src/main.rs are the two crate roots; the binary
reaches the library only through `layerdecomp::`). An edge A -> B means A names something of B
(`use`, or a `crate::`/`super::`/`self::` path). An inherent `impl T` written in another module
than T's own is an edge both ways: the type's behaviour is spread over both. A module's
re-exports of its own children (`pub use child::X`) are its declaration, not an edge. Test code
(`#[cfg(test)]` items and `tests.rs` files) is left out. Exits 1 on a cycle or a long function.
"""
import argparse
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#"(?:.|\n)*?"#', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\])'", "' '", text)
    return text


def block_end(text, open_brace):
    """Index just past the brace that closes the one at `open_brace`."""
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def strip_tests(text):
    """Remove items under #[cfg(test)] (a module or a function), keeping line count."""
    out = text
    for m in reversed(list(re.finditer(r"#\[cfg\(test\)\]\s*(pub\s+)?(mod|fn)\s+\w+[^{;]*([{;])", out))):
        if m.group(3) == ";":
            end = m.end()
        else:
            end = block_end(out, m.end() - 1)
        blank = re.sub(r"[^\n]", " ", out[m.start():end])
        out = out[: m.start()] + blank + out[end:]
    return out


def module_files():
    """{(crate, module path tuple): file} for both crates."""
    mods = {}
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, SRC)
            parts = rel[:-3].split(os.sep)
            if parts == ["lib"]:
                crate, mod = "lib", ()
            elif parts == ["main"]:
                crate, mod = "bin", ()
            else:
                if parts[-1] == "mod":
                    parts = parts[:-1]
                if parts[-1] == "tests":
                    continue
                crate = "bin" if parts[0] in BIN_TOP else "lib"
                mod = tuple(parts)
            mods[(crate, mod)] = path
    return mods


def bin_top_modules():
    main = open(os.path.join(SRC, "main.rs")).read()
    return set(re.findall(r"^\s*(?:pub\s+)?mod\s+(\w+)\s*;", main, flags=re.M))


BIN_TOP = bin_top_modules()


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    m = re.match(r"^(.*?)::\{(.*)\}$", tree, flags=re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for it in items:
        it = it.strip()
        if not it:
            continue
        if it == "self":
            out.append(prefix)
        else:
            out += [prefix + "::" + x for x in expand_use(it)]
    return out


def paths_in(text):
    """(path, is_child_reexport) for every `use` and every inline crate/super/self path."""
    found = []
    for m in re.finditer(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
        public = bool(m.group(1))
        for p in expand_use(m.group(2)):
            found.append((re.sub(r"\s+", "", p), public))
    no_use = re.sub(r"\buse\s+[^;]+;", "", text)
    for m in re.finditer(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+", no_use):
        found.append((m.group(0), False))
    return found


def resolve(crate, mod, is_mod_rs, path, modules):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] in ("super", "self"):
        base = mod if is_mod_rs else mod
        rest = parts
        # `self` is the current module; each `super` goes one level up.
        cur = list(mod)
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                cur = cur[:-1]
            rest = rest[1:]
        base = tuple(cur)
    elif (crate, (parts[0],)) in modules and crate == "bin" and mod == ():
        base, rest = (), parts
    else:
        sibling = tuple(list(mod) + [parts[0]])
        if (crate, sibling) in modules:
            base, rest = mod, parts
        else:
            return None
    target = base
    for p in rest:
        if (crate, tuple(list(target) + [p])) in modules:
            target = tuple(list(target) + [p])
        else:
            break
    return target


def graph(modules):
    edges = {k: set() for k in modules}
    types = {}
    impls = []
    for (crate, mod), path in modules.items():
        text = strip_tests(strip_comments_and_strings(open(path).read()))
        is_mod_rs = path.endswith("mod.rs") or path.endswith("lib.rs") or path.endswith("main.rs")
        imported = {}
        for p, public in paths_in(text):
            target = resolve(crate, mod, is_mod_rs, p, modules)
            if target is not None:
                imported[p.split("::")[-1]] = target
            if target is None or target == mod:
                continue
            if public and target[: len(mod)] == mod and len(target) > len(mod):
                continue  # a facade re-exporting its own child
            edges[(crate, mod)].add((crate, target))
        for m in re.finditer(r"\b(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait)\s+(\w+)", text):
            types.setdefault((crate, m.group(1)), set()).add(mod)
        for m in re.finditer(r"\bimpl(?:<[^>]*>)?\s+([A-Za-z_][\w:]*)(?:<[^>{]*>)?\s*\{", text):
            impl_path = m.group(1)
            home = imported.get(impl_path.split("::")[-1])
            if "::" in impl_path:
                home = resolve(crate, mod, is_mod_rs, impl_path, modules)
            impls.append((crate, mod, impl_path.split("::")[-1], home))
    for crate, mod, name, home in impls:
        if home is not None and home != mod and mod in types.get((crate, name), ()) | {home}:
            edges[(crate, mod)].add((crate, home))
            edges[(crate, home)].add((crate, mod))
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def long_functions(modules, limit):
    out = []
    for path in sorted(set(modules.values())):
        text = strip_tests(strip_comments_and_strings(open(path).read()))
        for m in re.finditer(r"\bfn\s+(\w+)\s*(?:<[^>]*>)?\s*\(", text):
            brace = text.find("{", m.end())
            semi = text.find(";", m.end())
            if brace < 0 or (0 <= semi < brace and "{" not in text[m.end():semi]):
                continue
            end = block_end(text, brace)
            start_line = text.count("\n", 0, m.start()) + 1
            end_line = text.count("\n", 0, end) + 1
            n = end_line - start_line + 1
            if n > limit:
                out.append((n, os.path.relpath(path, os.path.join(SRC, "..")), start_line, m.group(1)))
    return sorted(out, reverse=True)


def name(node):
    crate, mod = node
    return ("layerdecomp" if crate == "lib" else "main") + ("::" + "::".join(mod) if mod else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-fn-lines", type=int, default=120)
    ap.add_argument("--graph", action="store_true", help="print every edge")
    args = ap.parse_args()
    modules = module_files()
    edges = graph(modules)
    if args.graph:
        for v in sorted(edges):
            for w in sorted(edges[v]):
                print(f"{name(v)} -> {name(w)}")
    bad = False
    for comp in cycles(edges):
        bad = True
        print("cycle:", " <-> ".join(sorted(name(v) for v in comp)))
    for n, path, line, fn in long_functions(modules, args.max_fn_lines):
        bad = True
        print(f"long function: {path}:{line} {fn} ({n} lines)")
    n_edges = sum(len(v) for v in edges.values())
    print(f"{len(modules)} modules, {n_edges} edges: {'FAIL' if bad else 'no cycles, no function over ' + str(args.max_fn_lines) + ' lines'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
