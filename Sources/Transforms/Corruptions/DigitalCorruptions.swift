// ImageNet-C's digital corruptions and colour changes: brightness and saturation in scikit-image's HSV, contrast,
// pixelate (Pillow's BOX then NEAREST), JPEG at low quality, and the elastic transform (SciPy's map_coordinates).
import Engine
import Foundation
import Imaging

extension CorruptionRun {
    func brightness(_ offset: Double) -> RGBImage {
        hsvAdjusted { _, _, value in (nil, min(max(value + offset, 0), 1)) }
    }

    func saturate(_ factor: Double, _ offset: Double) -> RGBImage {
        hsvAdjusted { _, saturation, _ in (min(max(saturation * factor + offset, 0), 1), nil) }
    }

    /// Each channel pulled toward its own mean over the image: (x − m) · factor + m.
    func contrast(_ factor: Double) -> RGBImage {
        let pixels = FloatImage(image, dividedBy: 255)
        let count = Double(image.width * image.height)
        let means = (0 ..< 3).map { channel in
            Swift.stride(from: channel, to: pixels.values.count, by: 3).reduce(0.0) { $0 + pixels.values[$1] } / count
        }
        var result = pixels
        for index in result.values.indices {
            let mean = means[index % 3]
            result.values[index] = min(max((result.values[index] - mean) * factor + mean, 0), 1)
        }
        return result.rgbImage()
    }

    /// Shrunk to ⌊side · fraction⌋ with Pillow's BOX filter, then enlarged back with NEAREST.
    func pixelate(_ fraction: Double) -> RGBImage {
        let small = image.resized(width: Int(Double(image.width) * fraction), height: Int(Double(image.height) * fraction),
                                  filter: .box)
        return small.resizedNearest(width: image.width, height: image.height)
    }

    /// Saved as a JPEG of `quality` (4:2:0 chroma, as Pillow's default) and decoded back.
    func jpeg(_ quality: Int) throws(CorruptionError) -> RGBImage {
        do {
            return try ImageDecoder().decode(image.jpegData(quality: quality))
        } catch {
            throw .failed(corruption, reason: error.description)
        }
    }

    /// The reference's elastic transform (a modification of Simard et al.'s): displacement fields of uniform noise
    /// in ±0.005 · height, smoothed by a Gaussian of 0.01 · side (truncated at 3σ, reflected at the edges) and
    /// scaled by `alpha`; each pixel then reads the image there, linearly interpolated, the image reflected beyond its edges.
    mutating func elasticTransform(_ alpha: Double) -> RGBImage {
        let pixels = FloatImage(image, dividedBy: 255).asFloat32()
        let (width, height) = (image.width, image.height)
        let reach = Double(height) * 0.005
        func field(_ random: inout SplitMix64) -> FloatImage {
            let noise = FloatImage(width: width, height: height, channels: 1,
                                   values: (0 ..< width * height).map { _ in random.uniform(-reach, reach) })
            return noise.gaussianFiltered(sigmaRows: Double(height) * 0.01, sigmaColumns: Double(width) * 0.01, truncate: 3,
                                          boundary: .reflect).map { Double(Float($0 * alpha)) }
        }
        let dx = field(&random), dy = field(&random)
        var result = FloatImage(width: width, height: height, channels: 3)
        for row in 0 ..< height {
            for column in 0 ..< width {
                let y = Double(row) + dy.values[row * width + column]
                let x = Double(column) + dx.values[row * width + column]
                for channel in 0 ..< 3 {
                    result[row, column, channel] = min(max(pixels.linearSample(y: y, x: x, channel: channel), 0), 1)
                }
            }
        }
        return result.rgbImage()
    }

    /// The image through scikit-image's rgb2hsv, `change` (new saturation and value, nil to keep), hsv2rgb.
    private func hsvAdjusted(_ change: (Double, Double, Double) -> (Double?, Double?)) -> RGBImage {
        var result = FloatImage(image, dividedBy: 255)
        for start in Swift.stride(from: 0, to: result.values.count, by: 3) {
            let (red, green, blue) = (result.values[start], result.values[start + 1], result.values[start + 2])
            let (hue, saturation, value) = HSV.fromRGB(red, green, blue)
            let changed = change(hue, saturation, value)
            let rgb = HSV.toRGB(hue, changed.0 ?? saturation, changed.1 ?? value)
            result.values[start] = min(max(rgb.0, 0), 1)
            result.values[start + 1] = min(max(rgb.1, 0), 1)
            result.values[start + 2] = min(max(rgb.2, 0), 1)
        }
        return result.rgbImage()
    }
}

extension FloatImage {
    /// SciPy's `map_coordinates(order=1, mode='reflect')` at (y, x) in one channel: the position reflected into
    /// the image (about −½ and side − ½), then the four neighbours, each index reflected too.
    func linearSample(y: Double, x: Double, channel: Int) -> Double {
        func folded(_ coordinate: Double, _ count: Int) -> Double {
            let period = 2 * Double(count)
            var shifted = (coordinate + 0.5).truncatingRemainder(dividingBy: period)
            if shifted < 0 { shifted += period }
            return (shifted < Double(count) ? shifted : period - shifted) - 0.5
        }
        let row = folded(y, height), column = folded(x, width)
        let top = Int(row.rounded(.down)), left = Int(column.rounded(.down))
        let down = row - Double(top), across = column - Double(left)
        let rows = (Boundary.reflect.index(top, count: height), Boundary.reflect.index(top + 1, count: height))
        let columns = (Boundary.reflect.index(left, count: width), Boundary.reflect.index(left + 1, count: width))
        return blend(rows: rows, columns: columns, down: down, across: across, channel: channel)
    }
}

/// scikit-image's rgb2hsv and hsv2rgb (0.18), ties between maximal channels resolved as it resolves them.
enum HSV {
    static func fromRGB(_ red: Double, _ green: Double, _ blue: Double) -> (Double, Double, Double) {
        let value = max(red, green, blue)
        let delta = value - min(red, green, blue)
        guard delta != 0 else { return (0, 0, value) }
        let saturation = delta / value
        // Later assignments win in scikit-image: blue over green over red.
        var hue: Double
        if blue == value {
            hue = 4 + (red - green) / delta
        } else if green == value {
            hue = 2 + (blue - red) / delta
        } else {
            hue = (green - blue) / delta
        }
        hue = (hue / 6).truncatingRemainder(dividingBy: 1)
        if hue < 0 { hue += 1 }
        return (hue, saturation, value)
    }

    static func toRGB(_ hue: Double, _ saturation: Double, _ value: Double) -> (Double, Double, Double) {
        let sector = (hue * 6).rounded(.down)
        let fraction = hue * 6 - sector
        let p = value * (1 - saturation)
        let q = value * (1 - fraction * saturation)
        let t = value * (1 - (1 - fraction) * saturation)
        switch Int(sector) % 6 {
        case 0: return (value, t, p)
        case 1: return (q, value, p)
        case 2: return (p, value, t)
        case 3: return (p, q, value)
        case 4: return (t, p, value)
        default: return (value, p, q)
        }
    }
}
