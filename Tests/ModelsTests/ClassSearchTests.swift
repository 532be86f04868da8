import Models
import Testing

@Suite("Class names: the WordNet table and near misses")
struct ClassSearchTests {
    let labels: ImageNetLabels

    init() throws {
        labels = try ImageNetLabels.bundled()
    }

    @Test func everyClassHasItsWordNetSynonymsAndAncestors() throws {
        #expect(labels.count == 1000)
        #expect(labels.entries.allSatisfy { !$0.synonyms.isEmpty && $0.ancestors.last == "entity" })
        let eskimo = labels[248]
        #expect(eskimo.name == "Eskimo dog")
        #expect(eskimo.synonyms == ["Eskimo dog", "husky"])
        #expect(eskimo.ancestors.prefix(3) == ["working dog", "dog", "canine"])
        // Inception's "analog clock" answer for the upside-down car is an instrument, not a vehicle.
        let clock = try #require(labels.index(ofName: "analog clock"))
        #expect(labels[clock].ancestors.contains("timepiece"))
        #expect(!labels[clock].ancestors.contains("wheeled vehicle"))
        let car = try #require(labels.index(ofName: "sports car"))
        #expect(labels[car].ancestors.contains("wheeled vehicle"))
        // 118 dog breeds in ImageNet-1k (indices 151–268), all below "dog".
        #expect(labels.entries.filter { $0.ancestors.contains("dog") }.map(\.index) == Array(151...268))
    }

    @Test func huskySuggestsTheTwoHuskiesAndNothingFarFetched() {
        let matches = labels.suggestions(for: "husky")
        #expect(matches.map(\.label) == ["Eskimo dog", "Siberian husky"])
        #expect(matches.map(\.matched) == ["husky", "Siberian husky"])
        #expect(labels.resolve("husky") == nil)
    }

    @Test(arguments: [
        ("siberian huskie", "Siberian husky"),
        ("Sports Car", "sports car"),
        ("analog", "analog clock"),
        ("analogue clock", "analog clock"),
        ("fur_coat", "fur coat"),
        ("grand piano", "grand piano"),
        ("cucumbr", "cucumber"),
        ("St Bernard", "Saint Bernard"),
        ("Granny Smith", "Granny Smith"),
    ])
    func nearMissesRankTheMeantClassFirst(text: String, meant: String) throws {
        let first = try #require(labels.suggestions(for: text).first)
        #expect(first.label == meant)
    }

    @Test func nothingCloseGivesNoSuggestionsAndAPlainMessage() {
        #expect(labels.suggestions(for: "zzzzqqq").isEmpty)
        #expect(labels.suggestions(for: "").isEmpty)
        #expect(labels.suggestions(for: String(repeating: "dog ", count: 40)).isEmpty)
        #expect(labels.unknownClassMessage("zzzzqqq")
            == "'zzzzqqq' is not one of the 1000 ImageNet classes. Give an index 0-999, a WordNet id or an exact class name.")
    }

    @Test func theMessageNamesTheSuggestionsAndTheSynonymThatMatched() {
        #expect(labels.unknownClassMessage("husky")
            == "'husky' is not one of the 1000 ImageNet classes. Did you mean 'Eskimo dog' (also called husky) or 'Siberian husky'? "
            + "Give an index 0-999, a WordNet id or an exact class name.")
    }

    @Test func aWordNetTableThatDoesNotFollowTheClassListIsRefused() throws {
        let classes = "index\twnid\tname\n0\tn01440764\ttench\n1\tn01443537\tgoldfish\n"
        let shifted = "index\twnid\tsynonyms\tancestors\n0\tn01443537\tgoldfish\tfish\n1\tn01440764\ttench\tfish\n"
        #expect(throws: ImageNetLabels.LoadError.self) { try ImageNetLabels(tsv: classes, wordNet: shifted) }
        let short = "index\twnid\tsynonyms\tancestors\n0\tn01440764\ttench | Tinca tinca\tfish\n"
        #expect(throws: ImageNetLabels.LoadError.self) { try ImageNetLabels(tsv: classes, wordNet: short) }
        let good = "index\twnid\tsynonyms\tancestors\n0\tn01440764\ttench | Tinca tinca\tcyprinid | fish\n1\tn01443537\tgoldfish\tcyprinid | fish\n"
        let parsed = try ImageNetLabels(tsv: classes, wordNet: good)
        #expect(parsed[0].synonyms == ["tench", "Tinca tinca"])
        #expect(parsed[1].ancestors == ["cyprinid", "fish"])
        #expect(parsed.suggestions(for: "tinca").map(\.label) == ["tench"])
    }
}
