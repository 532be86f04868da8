// The embedding search: the penultimate features reduced by a randomized PCA (Halko et al. 2011), then an error-aware
// k-means (Domino's idea: each point carries its error as one more coordinate) on the discovery half. A cluster's rule
// on any image is "nearest to this centre" in the PCA space alone, so it applies to held-out images as it stands.
import Engine
import Foundation

struct EmbeddingSearch {
    /// Principal components kept.
    static let components = 16
    /// Weight of the error coordinate. The PCA coordinates are scaled to an RMS norm of 1 over all 16 together, so one
    /// coordinate is about 0.25: the error pulls a cluster together about as much as one principal direction does.
    static let errorWeight = 0.25
    static let iterations = 30

    let minimumSize: Int
    let seed: UInt64

    /// A principal subspace fitted on some rows: their mean and `components` orthonormal directions.
    struct Projection {
        let mean: [Double]
        /// components × dimensions, row-major.
        let directions: [[Double]]
        /// The RMS norm of the fitted rows' coordinates, which coordinates are divided by.
        let scale: Double

        func coordinates(_ row: [Float]) -> [Double] {
            directions.map { direction in
                var sum = 0.0
                for index in direction.indices { sum += (Double(row[index]) - mean[index]) * direction[index] }
                return sum / scale
            }
        }
    }

    /// The randomized PCA of `rows` (n × d): a seeded Gaussian sketch with 8 extra columns, two power iterations
    /// re-orthonormalized each time, then the exact eigenvectors of the small projected covariance (Jacobi).
    func projection(_ rows: [[Float]]) -> Projection {
        let count = rows.count
        let dimensions = rows.first?.count ?? 0
        var mean = Array(repeating: 0.0, count: dimensions)
        for row in rows { for index in 0..<dimensions { mean[index] += Double(row[index]) } }
        mean = mean.map { $0 / Double(max(count, 1)) }
        let centred = rows.map { row in (0..<dimensions).map { Double(row[$0]) - mean[$0] } }
        let width = min(Self.components + 8, dimensions, max(count - 1, 1))
        var random = SplitMix64(seed: seed ^ 0x9CA)
        // Z: d × width, a Gaussian sketch of the row space.
        var sketch = (0..<dimensions).map { _ in (0..<width).map { _ in Self.gaussian(&random) } }
        for _ in 0..<3 {
            let y = Self.orthonormalColumns(Self.multiply(centred, sketch))          // n × width
            sketch = Self.orthonormalColumns(Self.multiplyTransposed(centred, y))    // d × width
        }
        let projected = Self.multiply(centred, sketch)                              // n × width
        var covariance = Array(repeating: Array(repeating: 0.0, count: width), count: width)
        for row in projected {
            for i in 0..<width { for j in i..<width { covariance[i][j] += row[i] * row[j] } }
        }
        for i in 0..<width { for j in 0..<i { covariance[i][j] = covariance[j][i] } }
        let (values, vectors) = Self.symmetricEigen(covariance)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(min(Self.components, width))
        let directions = order.map { column in
            (0..<dimensions).map { index in (0..<width).reduce(0.0) { $0 + sketch[index][$1] * vectors[$1][column] } }
        }
        let unscaled = Projection(mean: mean, directions: directions, scale: 1)
        let squares = rows.map { unscaled.coordinates($0).reduce(0) { $0 + $1 * $1 } }
        let scale = max((squares.reduce(0, +) / Double(max(count, 1))).squareRoot(), 1e-12)
        return Projection(mean: mean, directions: directions, scale: scale)
    }

    /// Clusters of `points` (PCA coordinates) with `errors` as an extra coordinate: k-means++ seeding, Lloyd's
    /// iterations. Returns the centres in the PCA space alone.
    func clusters(_ points: [[Double]], errors: [Bool], count: Int) -> [[Double]] {
        guard !points.isEmpty else { return [] }
        let augmented = zip(points, errors).map { $0 + [$1 ? Self.errorWeight : 0] }
        var random = SplitMix64(seed: seed ^ 0xC1A5)
        var centres = [augmented[Int(random.next() % UInt64(augmented.count))]]
        while centres.count < min(count, augmented.count) {
            let distances = augmented.map { point in centres.map { Self.squaredDistance(point, $0) }.min() ?? 0 }
            let total = distances.reduce(0, +)
            guard total > 0 else { break }
            var target = Double(random.next() >> 11) / Double(1 << 53) * total
            var chosen = distances.count - 1
            for (index, distance) in distances.enumerated() {
                target -= distance
                if target <= 0 { chosen = index; break }
            }
            centres.append(augmented[chosen])
        }
        for _ in 0..<Self.iterations {
            let nearest = Self.nearest(augmented, centres: centres)
            var sums = centres.map { Array(repeating: 0.0, count: $0.count) }
            var counts = Array(repeating: 0, count: centres.count)
            for (point, cluster) in zip(augmented, nearest) {
                counts[cluster] += 1
                for index in point.indices { sums[cluster][index] += point[index] }
            }
            let moved = centres.indices.map { cluster in counts[cluster] == 0 ? centres[cluster] : sums[cluster].map { $0 / Double(counts[cluster]) } }
            if moved == centres { break }
            centres = moved
        }
        return centres.map { Array($0.dropLast()) }
    }

    /// For each point, the index of its nearest centre.
    static func nearest(_ points: [[Double]], centres: [[Double]]) -> [Int] {
        points.map { point in centres.indices.min { squaredDistance(point, centres[$0]) < squaredDistance(point, centres[$1]) } ?? 0 }
    }

    static func squaredDistance(_ left: [Double], _ right: [Double]) -> Double {
        var sum = 0.0
        for index in 0..<min(left.count, right.count) { sum += (left[index] - right[index]) * (left[index] - right[index]) }
        return sum
    }

    static func gaussian(_ random: inout SplitMix64) -> Double {
        let u = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300)
        let v = Double(random.next() >> 11) / Double(1 << 53)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// a (n × k) · b (k × m).
    static func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let columns = b.first?.count ?? 0
        return a.map { row in
            var out = Array(repeating: 0.0, count: columns)
            for (index, value) in row.enumerated() where value != 0 {
                let other = b[index]
                for column in 0..<columns { out[column] += value * other[column] }
            }
            return out
        }
    }

    /// aᵀ (k × n) · b (n × m) for a given as n × k.
    static func multiplyTransposed(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let (inner, columns) = (a.first?.count ?? 0, b.first?.count ?? 0)
        var out = Array(repeating: Array(repeating: 0.0, count: columns), count: inner)
        for (rowA, rowB) in zip(a, b) {
            for i in 0..<inner where rowA[i] != 0 {
                for column in 0..<columns { out[i][column] += rowA[i] * rowB[column] }
            }
        }
        return out
    }

    /// The columns of `matrix` made orthonormal (modified Gram–Schmidt); a column that vanishes stays zero.
    static func orthonormalColumns(_ matrix: [[Double]]) -> [[Double]] {
        guard let columns = matrix.first?.count else { return matrix }
        var result = matrix
        for column in 0..<columns {
            for previous in 0..<column {
                var dot = 0.0
                for row in result.indices { dot += result[row][column] * result[row][previous] }
                for row in result.indices { result[row][column] -= dot * result[row][previous] }
            }
            var norm = 0.0
            for row in result.indices { norm += result[row][column] * result[row][column] }
            norm = norm.squareRoot()
            for row in result.indices { result[row][column] = norm > 1e-12 ? result[row][column] / norm : 0 }
        }
        return result
    }

    /// Eigenvalues and eigenvectors (as columns) of a small symmetric matrix, by cyclic Jacobi rotations.
    static func symmetricEigen(_ input: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        let size = input.count
        var a = input
        var v = (0..<size).map { row in (0..<size).map { $0 == row ? 1.0 : 0.0 } }
        for _ in 0..<60 {
            var off = 0.0
            for i in 0..<size { for j in 0..<size where i != j { off += a[i][j] * a[i][j] } }
            if off < 1e-20 { break }
            for p in 0..<size {
                for q in (p + 1)..<size where abs(a[p][q]) > 1e-300 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<size {
                        let (akp, akq) = (a[k][p], a[k][q])
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<size {
                        let (apk, aqk) = (a[p][k], a[q][k])
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<size {
                        let (vkp, vkq) = (v[k][p], v[k][q])
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<size).map { a[$0][$0] }, v)
    }
}
