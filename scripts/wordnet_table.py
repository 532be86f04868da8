#!/usr/bin/env python3
"""Derives Sources/Models/Resources/imagenet-wordnet.tsv from WordNet 3.0 (Debian's wordnet-base).

ImageNet-1k's class ids are WordNet 3.0 noun synsets: n02110185 is the synset at byte offset 02110185 of
data.noun. For each of the 1000 classes this writes its synonyms (the synset's lemmas, e.g. "Eskimo dog | husky")
and its ancestors through the hypernym links ("@" and "@i" pointers), the most specific first, each by its first
lemma ("sled dog | working dog | dog | canine | …"). Blindspot ships the table, so running it needs no WordNet.

    apt-get install wordnet-base && python3 scripts/wordnet_table.py > Sources/Models/Resources/imagenet-wordnet.tsv
"""
import argparse
import sys
from pathlib import Path


def read_synsets(data_noun: Path):
    """offset -> (lemmas, hypernym offsets) for every noun synset."""
    synsets = {}
    with data_noun.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" | ", 1)[0].split()
            offset, word_count = fields[0], int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(word_count)]
            at = 4 + 2 * word_count
            pointer_count = int(fields[at])
            hypernyms = []
            for p in range(pointer_count):
                symbol, target, pos = fields[at + 1 + 4 * p: at + 4 + 4 * p]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append(target)
            synsets[offset] = (lemmas, hypernyms)
    return synsets


def depth(offset, synsets, memo):
    """The longest hypernym path from `offset` up to the root ("entity" has 0)."""
    if offset not in memo:
        memo[offset] = 1 + max((depth(h, synsets, memo) for h in synsets[offset][1]), default=-1)
    return memo[offset]


def ancestors(offset, synsets, memo):
    """Every hypernym reachable from `offset`, each once, the most specific first: deepest below the root first,
    ties in breadth-first order, so "entity" always comes last."""
    seen, order, frontier = {offset}, [], list(synsets[offset][1])
    while frontier:
        following = []
        for parent in frontier:
            if parent in seen:
                continue
            seen.add(parent)
            order.append(parent)
            following.extend(synsets[parent][1])
        frontier = following
    return sorted(order, key=lambda a: -depth(a, synsets, memo))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--classes", type=Path, default=Path(__file__).resolve().parent.parent / "Sources/Models/Resources/imagenet-classes.tsv")
    arguments = parser.parse_args()
    synsets = read_synsets(arguments.wordnet / "data.noun")
    out, memo = sys.stdout, {}
    out.write("index\twnid\tsynonyms\tancestors\n")
    for line in arguments.classes.read_text(encoding="utf-8").splitlines()[1:]:
        index, wnid, _name = line.split("\t")
        offset = wnid[1:]
        lemmas, _ = synsets[offset]
        names = [synsets[a][0][0] for a in ancestors(offset, synsets, memo)]
        out.write(f"{index}\t{wnid}\t{' | '.join(lemmas)}\t{' | '.join(names)}\n")


if __name__ == "__main__":
    main()
