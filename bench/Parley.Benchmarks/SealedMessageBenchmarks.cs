using BenchmarkDotNet.Attributes;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Benchmarks;

/// <summary>
/// The end-to-end envelope of a 64-character CHAT text (497 bytes on the wire), which each client pays once per
/// message it sends or shows: two ECDH agreements and an ECDSA signature to seal, a verification and one agreement to open.
/// </summary>
/// <remarks>Benchmark classes cannot be sealed: BenchmarkDotNet runs them through a generated subclass.</remarks>
[MemoryDiagnoser]
public class SealedMessageBenchmarks
{
    private IdentityKey _alice = null!;
    private IdentityKey _bob = null!;
    private string _envelope = "";

    [GlobalSetup]
    public void Setup()
    {
        _alice = IdentityKey.Create();
        _bob = IdentityKey.Create();
        _envelope = Seal();
        if (Open() != ChatBodies.Text)
        {
            throw new InvalidOperationException("The envelope does not open.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _alice.Dispose();
        _bob.Dispose();
    }

    [Benchmark]
    public string Seal() => SealedMessage.Seal(_alice, _bob.Public, ChatBodies.Context, ChatBodies.Text);

    /// <summary>Parse and open as the recipient, as bob's client does with each CHAT it shows.</summary>
    [Benchmark]
    public string? Open() =>
        SealedMessage.TryParse(_envelope)?.Open(_bob, _alice.Public, ChatBodies.Context, meIsSender: false).Text;
}
