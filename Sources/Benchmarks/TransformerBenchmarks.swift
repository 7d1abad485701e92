import Autograd
import NN
import Policies
import Randomness

/// The tiny GPT's training and sampling figures, as the PyTorch anchor (`anchors/torch/gpt.py`) measures them.
public enum TransformerBenchmarks {
    /// Training tokens/s of the GPT trunk (forward + cross-entropy + backward + AdamW), as the PyTorch
    /// anchor measures it: random tokens, next-token targets, lr 3e-4.
    public static func trainingTokensPerSecond(
        config: TransformerConfig, batch: Int, minimumSeconds: Double = 2
    ) -> Double {
        var generator = SeededGenerator(seed: 2)
        let model = CausalTransformer(config: config, generator: &generator)
        let optimizer = AdamW(parameters: model.parameters, config: .init(learningRate: 3e-4, weightDecay: 0.01))
        let time = config.contextLength
        let tokens = (0..<(batch * time)).map { _ in generator.nextInt(below: config.vocabularySize) }
        let targets = (0..<(batch * time)).map { _ in generator.nextInt(below: config.vocabularySize) }
        let seconds = BenchmarkTiming.medianSeconds(rounds: 3, minimumSeconds: minimumSeconds) {
            model.zeroGradients()
            let loss = model.forward(tokens: tokens, batch: batch, time: time).logits.crossEntropy(targets: targets)
            loss.backward()
            optimizer.step()
        }
        return Double(batch * time) / seconds
    }

    /// Generated tokens/s of KV-cache sampling as `gpt.py --bench sample` measures it: a 1-token random
    /// prompt per row, ctx − 1 new tokens (no stop token), multinomial at T = 1; tokens/s counts
    /// generated tokens.
    public static func samplingTokensPerSecond(
        config: TransformerConfig, batch: Int, minimumSeconds: Double = 1
    ) -> Double {
        var generator = SeededGenerator(seed: 3)
        let policy = TransformerPolicy(config: config, generator: &generator)
        let prompts = (0..<batch).map { _ in [generator.nextInt(below: config.vocabularySize)] }
        let options = SamplingOptions(temperature: 1, maxNewTokens: config.contextLength - 1)
        let seconds = BenchmarkTiming.medianSeconds(rounds: 3, minimumSeconds: minimumSeconds) {
            _ = policy.sample(prompts: prompts, options: options, generator: &generator)
        }
        return Double(batch * (config.contextLength - 1)) / seconds
    }
}
