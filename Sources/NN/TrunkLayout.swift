// Which token each row of a fused-trunk call holds, and at which position.
//
// Plain: B independent sequences of T tokens, T rows each (row b·T + t is position t of sequence b).
// Shared prefixes: groups of G sequences that begin with the same prompt, as GRPO's and RLOO's G
// completions of one prompt do. A group's rows hold its prompt once (P_i rows, positions 0..<P_i), then
// each member's continuation (S_i rows, positions P_i..<P_i + S_i). A continuation row attends to the
// prompt's keys and values and to its own member's earlier rows, so every row computes exactly what the
// plain layout computes for that position — with the prompt's rows run once per group instead of G times.
// The plain layout is the case of groups with no members (P_i = T).
//
// Legend: G members per group, P_i prompt rows and S_i continuation rows of group i, T = max (P_i + S_i).

/// The rows of one fused-trunk call: per group, P_i prompt rows, then G × S_i continuation rows.
public struct TrunkLayout: Hashable, Sendable {
    /// G: members per group (0 for plain sequences).
    public let members: Int
    /// P_i: prompt rows of group i.
    public let prefixLengths: [Int]
    /// S_i: continuation rows of each member of group i.
    public let suffixLengths: [Int]
    /// First row of each group, and the row count at the end (groups + 1 entries).
    public let rowStarts: [Int]
    /// T: the longest sequence (P_i + S_i); attention tables are sized for T (`attentionWeightsCount`).
    public let time: Int

    public var groups: Int { prefixLengths.count }
    /// N: rows in all.
    public var rows: Int { rowStarts[groups] }

    /// Groups of `members` sequences: P_i = `prefixLengths[i]`, S_i = `suffixLengths[i]`.
    public init(members: Int, prefixLengths: [Int], suffixLengths: [Int]) {
        precondition(members >= 0, "members must be ≥ 0, got \(members)")
        precondition(
            prefixLengths.count == suffixLengths.count,
            "\(prefixLengths.count) prefixes for \(suffixLengths.count) suffix lengths")
        precondition(
            prefixLengths.allSatisfy { $0 >= 1 } && suffixLengths.allSatisfy { $0 >= 0 },
            "prefixes need ≥ 1 row, suffixes ≥ 0")
        self.members = members
        self.prefixLengths = prefixLengths
        self.suffixLengths = suffixLengths
        var starts = [0]
        starts.reserveCapacity(prefixLengths.count + 1)
        for (p, s) in zip(prefixLengths, suffixLengths) { starts.append(starts[starts.count - 1] + p + members * s) }
        rowStarts = starts
        time = zip(prefixLengths, suffixLengths).map { members > 0 ? $0 + $1 : $0 }.max() ?? 0
    }

    /// B sequences of T tokens, one after another.
    public static func plain(batch: Int, time: Int) -> TrunkLayout {
        TrunkLayout(
            members: 0, prefixLengths: [Int](repeating: time, count: batch),
            suffixLengths: [Int](repeating: 0, count: batch))
    }

    public var isPlain: Bool { members == 0 }

    /// The row that holds position t of member m of group i (the prompt row when t < P_i).
    @inline(__always)
    public func row(group i: Int, member m: Int, position t: Int) -> Int {
        let p = prefixLengths[i]
        return t < p ? rowStarts[i] + t : rowStarts[i] + p + m * suffixLengths[i] + (t - p)
    }

    /// Calls `body(row, position)` for every row of groups `groups`, in row order.
    @inline(__always)
    func forEachRow(groups range: Range<Int>, _ body: (Int, Int) -> Void) {
        for i in range {
            let start = rowStarts[i], p = prefixLengths[i], s = suffixLengths[i]
            for t in 0..<p { body(start + t, t) }
            for m in 0..<members {
                let first = start + p + m * s
                for j in 0..<s { body(first + j, p + j) }
            }
        }
    }
}
