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

        func coordinates(_ row: UnsafeBufferPointer<Float>) -> [Double] {
            directions.map { direction in
                var sum = 0.0
                for index in direction.indices { sum += (Double(row[index]) - mean[index]) * direction[index] }
                return sum / scale
            }
        }

        /// The coordinates of every row of `features`, in order.
        func coordinates(of features: FeatureRows) throws -> [[Double]] {
            var result: [[Double]] = []
            result.reserveCapacity(features.count)
            try features.forEachRow { _, row in result.append(coordinates(row)) }
            return result
        }
    }

    /// The randomized PCA of the rows of `features` marked in `fitted` (Halko et al. 2011): a seeded Gaussian sketch
    /// with 8 extra columns, three power iterations re-orthonormalized each time, then the exact eigenvectors of the
    /// small projected covariance (Jacobi). Each pass streams the rows, so memory holds the sketch, never the rows.
    func projection(_ features: FeatureRows, fitted: [Bool]) throws -> Projection {
        let dimensions = features.width
        var count = 0
        var mean = Array(repeating: 0.0, count: dimensions)
        try features.forEachRow { index, row in
            guard fitted[index] else { return }
            count += 1
            for column in 0..<dimensions { mean[column] += Double(row[column]) }
        }
        mean = mean.map { $0 / Double(max(count, 1)) }
        let width = max(min(Self.components + 8, dimensions, count - 1), 1)
        var random = SplitMix64(seed: seed ^ 0x9CA)
        // Z: d × width, row-major, a Gaussian sketch of the row space.
        var sketch = Self.orthonormalColumns((0..<(dimensions * width)).map { _ in Self.gaussian(&random) }, columns: width)
        var covariance = Array(repeating: Array(repeating: 0.0, count: width), count: width)
        for pass in 0...3 {
            // CᵀC·Z over the centred rows C, one row at a time: y = c·Z, then CᵀC·Z += cᵀ·y.
            let product = try Self.gramProduct(features, fitted: fitted, mean: mean, sketch: sketch, width: width)
            guard pass == 3 else {
                sketch = Self.orthonormalColumns(product, columns: width)
                continue
            }
            // Zᵀ·CᵀC·Z: the covariance of the rows projected on the sketch.
            for i in 0..<width {
                for j in 0..<width {
                    var sum = 0.0
                    for row in 0..<dimensions { sum += sketch[row * width + i] * product[row * width + j] }
                    covariance[i][j] = sum
                }
            }
        }
        let (values, vectors) = Self.symmetricEigen(covariance)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(min(Self.components, width))
        let directions = order.map { column in
            (0..<dimensions).map { row in (0..<width).reduce(0.0) { $0 + sketch[row * width + $1] * vectors[$1][column] } }
        }
        // An eigenvalue is the sum of squares of the fitted rows' coordinates along its direction.
        let squares = order.reduce(0.0) { $0 + max(values[$1], 0) }
        let scale = max((squares / Double(max(count, 1))).squareRoot(), 1e-12)
        return Projection(mean: mean, directions: directions, scale: scale)
    }

    /// CᵀC·Z (d × width, row-major) for the centred rows C of `features` marked in `fitted`.
    static func gramProduct(_ features: FeatureRows, fitted: [Bool], mean: [Double], sketch: [Double], width: Int) throws -> [Double] {
        let dimensions = features.width
        var product = Array(repeating: 0.0, count: dimensions * width)
        var centred = Array(repeating: 0.0, count: dimensions)
        var projected = Array(repeating: 0.0, count: width)
        try sketch.withUnsafeBufferPointer { z in
            try product.withUnsafeMutableBufferPointer { out in
                try features.forEachRow { index, row in
                    guard fitted[index] else { return }
                    for j in 0..<width { projected[j] = 0 }
                    for column in 0..<dimensions {
                        let value = Double(row[column]) - mean[column]
                        centred[column] = value
                        for j in 0..<width { projected[j] += value * z[column * width + j] }
                    }
                    for column in 0..<dimensions where centred[column] != 0 {
                        let value = centred[column]
                        for j in 0..<width { out[column * width + j] += value * projected[j] }
                    }
                }
            }
        }
        return product
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

    /// The columns of a row-major matrix with `columns` columns made orthonormal (modified Gram–Schmidt); a column that
    /// vanishes stays zero.
    static func orthonormalColumns(_ matrix: [Double], columns: Int) -> [Double] {
        var result = matrix
        let rows = columns > 0 ? matrix.count / columns : 0
        for column in 0..<columns {
            for previous in 0..<column {
                var dot = 0.0
                for row in 0..<rows { dot += result[row * columns + column] * result[row * columns + previous] }
                for row in 0..<rows { result[row * columns + column] -= dot * result[row * columns + previous] }
            }
            var norm = 0.0
            for row in 0..<rows { norm += result[row * columns + column] * result[row * columns + column] }
            norm = norm.squareRoot()
            for row in 0..<rows { result[row * columns + column] = norm > 1e-12 ? result[row * columns + column] / norm : 0 }
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
