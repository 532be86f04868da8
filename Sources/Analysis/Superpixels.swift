// SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", 2012) of an
// RGB image, in CIELAB: the regions that superpixel occlusion greys out one at a time. Deterministic; libvips has no
// SLIC. Not a general segmentation library: one algorithm, 4-connected segments numbered 0..<count.
import Foundation
import Imaging

/// A partition of an image into compact, colour-coherent, 4-connected segments.
public struct Superpixels: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// One segment index per pixel, row-major (width × height), in 0..<count; numbered in the order of their first
    /// pixel.
    public let segments: [Int32]
    public let count: Int

    /// Segments `image` into about `count` superpixels. `compactness` weighs closeness in space against closeness
    /// in colour (CIELAB units per grid interval; 10 is the paper's choice). At most `iterations` rounds of local
    /// assignment run (fewer when the assignment stops changing); then every segment is made 4-connected, and
    /// pieces smaller than a quarter of the expected segment size join the adjacent segment closest in colour.
    public init(segmenting image: RGBImage, count requested: Int = 50, compactness: Double = 10, iterations: Int = 10) {
        precondition(requested >= 1, "at least one superpixel, got \(requested)")
        precondition(compactness > 0 && iterations >= 0, "compactness must be positive and iterations not negative")
        width = image.width
        height = image.height
        let lab = Self.lab(of: image)
        let clusters = Self.cluster(lab, width: width, height: height, requested: requested, compactness: Float(compactness),
                                    iterations: iterations)
        let pixelCount = width * height
        let minimumSize = max(1, pixelCount / (4 * max(clusters.centres, 1)))
        (segments, count) = Self.connectedSegments(of: clusters.labels, lab: lab, width: width, height: height, minimumSize: minimumSize)
    }

    // MARK: Colour

    /// The image in CIELAB (D65 white), one plane per channel: L, then a, then b, each width × height.
    static func lab(of image: RGBImage) -> [Float] {
        let pixelCount = image.width * image.height
        let linear: [Float] = (0..<256).map { value in
            let channel = Double(value) / 255
            return Float(channel <= 0.04045 ? channel / 12.92 : pow((channel + 0.055) / 1.055, 2.4))
        }
        func f(_ t: Float) -> Float {
            let epsilon: Float = 216.0 / 24389.0  // (6/29)^3
            return t > epsilon ? cbrt(t) : t * (24389.0 / 27.0 / 116.0) + 16.0 / 116.0
        }
        return [Float](unsafeUninitializedCapacity: 3 * pixelCount) { lab, initialized in
            image.pixels.withUnsafeBufferPointer { pixels in
                linear.withUnsafeBufferPointer { linear in
                    for index in 0..<pixelCount {
                        let red = linear[Int(pixels[3 * index])], green = linear[Int(pixels[3 * index + 1])]
                        let blue = linear[Int(pixels[3 * index + 2])]
                        let x = (0.4124564 * red + 0.3575761 * green + 0.1804375 * blue) / 0.95047
                        let y = 0.2126729 * red + 0.7151522 * green + 0.0721750 * blue
                        let z = (0.0193339 * red + 0.1191920 * green + 0.9503041 * blue) / 1.08883
                        let fx = f(x), fy = f(y), fz = f(z)
                        lab[index] = 116 * fy - 16
                        lab[pixelCount + index] = 500 * (fx - fy)
                        lab[2 * pixelCount + index] = 200 * (fy - fz)
                    }
                }
            }
            initialized = 3 * pixelCount
        }
    }

    // MARK: Clustering

    /// k-means in (L, a, b, x, y) with each centre searching only its 2S × 2S neighbourhood. Labels are cluster
    /// indices, or -1 for a pixel no window reached.
    static func cluster(_ lab: [Float], width: Int, height: Int, requested: Int, compactness: Float,
                        iterations: Int) -> (labels: [Int32], centres: Int) {
        let pixelCount = width * height
        let interval = (Double(pixelCount) / Double(requested)).squareRoot()
        let columns = max(1, min(width, Int((Double(width) / interval).rounded())))
        let rows = max(1, min(height, Int((Double(height) / interval).rounded())))
        let centreCount = columns * rows
        let step = Float((Double(pixelCount) / Double(centreCount)).squareRoot())
        // Centres: L, a, b, x, y.
        var centres = [Float](repeating: 0, count: 5 * centreCount)
        var labels = [Int32](repeating: -1, count: pixelCount)
        lab.withUnsafeBufferPointer { lab in
            let l = lab.baseAddress!, a = l + pixelCount, b = a + pixelCount
            func gradient(_ x: Int, _ y: Int) -> Float {
                let index = y * width + x
                var total: Float = 0
                for plane in 0..<3 {
                    let values = l + plane * pixelCount
                    let horizontal = values[index + 1] - values[index - 1]
                    let vertical = values[index + width] - values[index - width]
                    total += horizontal * horizontal + vertical * vertical
                }
                return total
            }
            for row in 0..<rows {
                for column in 0..<columns {
                    let gridX = Int((Double(column) + 0.5) * Double(width) / Double(columns))
                    let gridY = Int((Double(row) + 0.5) * Double(height) / Double(rows))
                    // The lowest gradient in the 3 × 3 neighbourhood (away from the border, where it is undefined), so
                    // no centre starts on an edge or a noisy pixel.
                    var x = gridX, y = gridY, best = Float.infinity
                    for candidateY in (gridY - 1)...(gridY + 1) where candidateY >= 1 && candidateY < height - 1 {
                        for candidateX in (gridX - 1)...(gridX + 1) where candidateX >= 1 && candidateX < width - 1 {
                            let value = gradient(candidateX, candidateY)
                            if value < best {
                                best = value
                                x = candidateX
                                y = candidateY
                            }
                        }
                    }
                    let centre = 5 * (row * columns + column), index = y * width + x
                    centres[centre] = l[index]
                    centres[centre + 1] = a[index]
                    centres[centre + 2] = b[index]
                    centres[centre + 3] = Float(x)
                    centres[centre + 4] = Float(y)
                }
            }

            let spatialWeight = (compactness / step) * (compactness / step)
            var distances = [Float](repeating: .infinity, count: pixelCount)
            var sums = [Double](repeating: 0, count: 6 * centreCount)
            let previous = UnsafeMutableBufferPointer<Int32>.allocate(capacity: pixelCount)
            defer { previous.deallocate() }
            distances.withUnsafeMutableBufferPointer { distances in
                labels.withUnsafeMutableBufferPointer { labels in
                    centres.withUnsafeMutableBufferPointer { centres in
                        sums.withUnsafeMutableBufferPointer { sums in
                            for _ in 0..<iterations {
                                distances.update(repeating: .infinity)
                                _ = previous.update(fromContentsOf: labels)
                                for centre in 0..<centreCount {
                                    let cl = centres[5 * centre], ca = centres[5 * centre + 1], cb = centres[5 * centre + 2]
                                    let cx = centres[5 * centre + 3], cy = centres[5 * centre + 4]
                                    let left = max(0, Int((cx - step).rounded(.down))), right = min(width - 1, Int((cx + step).rounded(.up)))
                                    let top = max(0, Int((cy - step).rounded(.down))), bottom = min(height - 1, Int((cy + step).rounded(.up)))
                                    guard left <= right && top <= bottom else { continue }
                                    let label = Int32(truncatingIfNeeded: centre)
                                    for y in top...bottom {
                                        let dy = Float(y) - cy, verticalTerm = dy * dy * spatialWeight
                                        let row = y * width
                                        for x in left...right {
                                            let index = row &+ x
                                            let dl = l[index] - cl, da = a[index] - ca, db = b[index] - cb, dx = Float(x) - cx
                                            let distance = dl * dl + da * da + db * db + dx * dx * spatialWeight + verticalTerm
                                            if distance < distances[index] {
                                                distances[index] = distance
                                                labels[index] = label
                                            }
                                        }
                                    }
                                }
                                guard !(0..<pixelCount).allSatisfy({ labels[$0] == previous[$0] }) else { break }
                                // Each centre moves to the mean of its pixels; a centre that lost every pixel stays.
                                sums.update(repeating: 0)
                                for y in 0..<height {
                                    for x in 0..<width {
                                        let index = y * width + x, label = Int(labels[index])
                                        guard label >= 0 else { continue }
                                        sums[6 * label] += Double(l[index])
                                        sums[6 * label + 1] += Double(a[index])
                                        sums[6 * label + 2] += Double(b[index])
                                        sums[6 * label + 3] += Double(x)
                                        sums[6 * label + 4] += Double(y)
                                        sums[6 * label + 5] += 1
                                    }
                                }
                                for centre in 0..<centreCount where sums[6 * centre + 5] > 0 {
                                    for component in 0..<5 {
                                        centres[5 * centre + component] = Float(sums[6 * centre + component] / sums[6 * centre + 5])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (labels, centreCount)
    }

    // MARK: Connectivity

    /// Splits every cluster into its 4-connected pieces, joins each piece smaller than `minimumSize` to the adjacent
    /// piece closest in mean colour (again, until no piece is too small), and numbers the results 0..<count in the
    /// order of their first pixel.
    static func connectedSegments(of labels: [Int32], lab: [Float], width: Int, height: Int,
                                  minimumSize: Int) -> (segments: [Int32], count: Int) {
        let pixelCount = width * height
        var pieces = [Int32](repeating: -1, count: pixelCount)
        var sizes: [Int] = []
        var colourSums: [Double] = []  // L, a, b summed over each piece
        var queue = [Int32](repeating: 0, count: pixelCount)
        labels.withUnsafeBufferPointer { labels in
            lab.withUnsafeBufferPointer { lab in
                pieces.withUnsafeMutableBufferPointer { pieces in
                    queue.withUnsafeMutableBufferPointer { queue in
                        for seed in 0..<pixelCount where pieces[seed] < 0 {
                            let piece = Int32(sizes.count), label = labels[seed]
                            pieces[seed] = piece
                            queue[0] = Int32(seed)
                            var head = 0, tail = 1
                            var sumL: Double = 0, sumA: Double = 0, sumB: Double = 0
                            while head < tail {
                                let index = Int(queue[head])
                                head += 1
                                sumL += Double(lab[index])
                                sumA += Double(lab[pixelCount + index])
                                sumB += Double(lab[2 * pixelCount + index])
                                let x = index % width
                                func visit(_ neighbour: Int) {
                                    guard pieces[neighbour] < 0 && labels[neighbour] == label else { return }
                                    pieces[neighbour] = piece
                                    queue[tail] = Int32(neighbour)
                                    tail += 1
                                }
                                if x > 0 { visit(index - 1) }
                                if x < width - 1 { visit(index + 1) }
                                if index >= width { visit(index - width) }
                                if index + width < pixelCount { visit(index + width) }
                            }
                            sizes.append(tail)
                            colourSums += [sumL, sumA, sumB]
                        }
                    }
                }
            }
        }

        // Groups of pieces (union-find over piece numbers). Each round, every group still too small joins the
        // adjacent group closest in mean colour; joining adjacent connected groups keeps every group connected.
        let pieceCount = sizes.count
        var parent = Array(0..<pieceCount)
        func root(_ piece: Int) -> Int {
            var current = piece
            while parent[current] != current {
                parent[current] = parent[parent[current]]
                current = parent[current]
            }
            return current
        }
        var groupOfPiece = Array(0..<pieceCount)
        var groupSizes = sizes, groupColours = colourSums
        var closest = [Int](repeating: -1, count: pieceCount)
        var closestDistance = [Double](repeating: .infinity, count: pieceCount)
        while true {
            for piece in 0..<pieceCount { groupOfPiece[piece] = root(piece) }
            groupSizes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            groupColours.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            for piece in 0..<pieceCount {
                let group = groupOfPiece[piece]
                groupSizes[group] += sizes[piece]
                for channel in 0..<3 { groupColours[3 * group + channel] += colourSums[3 * piece + channel] }
            }
            guard groupSizes.indices.contains(where: { groupSizes[$0] > 0 && groupSizes[$0] < minimumSize }) else { break }
            closest.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
            closestDistance.withUnsafeMutableBufferPointer { $0.update(repeating: .infinity) }
            func consider(_ group: Int, _ other: Int) {
                guard groupSizes[group] < minimumSize else { return }
                var distance: Double = 0
                for channel in 0..<3 {
                    let difference = groupColours[3 * group + channel] / Double(groupSizes[group])
                        - groupColours[3 * other + channel] / Double(groupSizes[other])
                    distance += difference * difference
                }
                if distance < closestDistance[group] || (distance == closestDistance[group] && other < closest[group]) {
                    closestDistance[group] = distance
                    closest[group] = other
                }
            }
            pieces.withUnsafeBufferPointer { pieces in
                func meet(_ first: Int, _ second: Int) {
                    let group = groupOfPiece[Int(pieces[first])], other = groupOfPiece[Int(pieces[second])]
                    guard group != other else { return }
                    consider(group, other)
                    consider(other, group)
                }
                for index in 0..<pixelCount {
                    if (index + 1) % width != 0 { meet(index, index + 1) }
                    if index + width < pixelCount { meet(index, index + width) }
                }
            }
            var joined = false
            for group in 0..<pieceCount where closest[group] >= 0 {
                let first = root(group), second = root(closest[group])
                if first != second {
                    parent[max(first, second)] = min(first, second)
                    joined = true
                }
            }
            guard joined else { break }  // one group covers the whole image
        }

        var numbers = [Int32](repeating: -1, count: pieceCount)
        var count: Int32 = 0
        let segments = pieces.map { piece -> Int32 in
            let group = groupOfPiece[Int(piece)]
            if numbers[group] < 0 {
                numbers[group] = count
                count += 1
            }
            return numbers[group]
        }
        return (segments, Int(count))
    }
}
