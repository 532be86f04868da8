// ImageNet-A's and ImageNet-R's shipped class lists: 200 distinct WordNet ids each, every one an ImageNet class of
// imagenet-wordnet.tsv, with classes known to be in (and out of) each dataset.
import Foundation
import Models
import Testing

@Suite struct ImageNetSubsetTests {
    /// The WordNet ids of Sources/Models/Resources/imagenet-wordnet.tsv, read here on their own.
    static func wordNetTable() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Models/Resources/imagenet-wordnet.tsv")
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
        return Set(rows.compactMap { $0.split(separator: "\t").dropFirst().first.map(String.init) })
    }

    @Test(arguments: ImageNetSubset.allCases) func twoHundredDistinctImageNetClasses(subset: ImageNetSubset) throws {
        let wordNetIDs = try subset.wordNetIDs()
        #expect(wordNetIDs.count == 200 && Set(wordNetIDs).count == 200)
        let table = try Self.wordNetTable()
        #expect(table.count == 1000)
        #expect(wordNetIDs.allSatisfy(table.contains), "\(wordNetIDs.filter { !table.contains($0) })")
        let indices = try subset.classIndices(in: ImageNetLabels.bundled())
        #expect(indices.count == 200 && indices == indices.sorted() && Set(indices).count == 200)
    }

    /// ImageNet-A: stingray (6), pug (254) and cheeseburger (933), not goldfish (1); ImageNet-R: goldfish and pug.
    @Test func knownClassesAreWhereTheyBelong() throws {
        let labels = try ImageNetLabels.bundled()
        let adversarial = try ImageNetSubset.imagenetA.classIndices(in: labels)
        let renditions = try ImageNetSubset.imagenetR.classIndices(in: labels)
        #expect(adversarial.contains(6) && adversarial.contains(254) && adversarial.contains(933) && !adversarial.contains(1))
        #expect(try ImageNetSubset.imagenetA.wordNetIDs().first == "n01498041")
        #expect(renditions.contains(1) && renditions.contains(254))
        #expect(labels[6].wordNetID == "n01498041" && labels[1].wordNetID == "n01443537")
    }
}
