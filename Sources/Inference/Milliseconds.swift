// Durations as the fractional milliseconds Blindspot reports everywhere.

extension Duration {
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
