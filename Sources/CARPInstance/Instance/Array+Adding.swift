extension Array {
    /// Appends `more`, as `+=` does, without the work of appending when there is nothing to
    /// append (most of the actions an idle wake-up gathers are none), and taking `more` whole
    /// into an empty array.
    @inline(__always)
    mutating func add(_ more: [Element]) {
        if more.isEmpty { return }
        if isEmpty { self = more } else { append(contentsOf: more) }
    }
}
