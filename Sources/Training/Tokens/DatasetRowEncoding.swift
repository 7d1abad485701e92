import Tasks

extension TokenTaskCodec {
    /// Encodes every row of a stored dataset with `encode`, refusing the first text outside the vocabulary
    /// by its row number (1-based, in the dataset's order) and character. Import accepts any text, since it
    /// is the user's data; this is where the 32-token vocabulary is enforced, before any training step.
    func encodeRows<Row, Encoded>(
        _ rows: [Row], _ encode: (TokenTaskCodec, Row) throws -> Encoded
    ) throws -> [Encoded] {
        var encoded: [Encoded] = []
        encoded.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            do {
                encoded.append(try encode(self, row))
            } catch let error as VocabularyError {
                throw TrainingError.invalidConfiguration("dataset row \(index + 1): \(error)")
            }
        }
        return encoded
    }
}
