using System.Buffers;
using BenchmarkDotNet.Attributes;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Benchmarks;

/// <summary>Taking one whole sealed frame off the front of a received buffer: the header check and the slicing.</summary>
/// <remarks>Benchmark classes cannot be sealed: BenchmarkDotNet runs them through a generated subclass.</remarks>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private ReadOnlySequence<byte> _frame;

    [ParamsAllValues]
    public ChatBody Body { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var plaintext = MessageCodec.ToBytes(ChatBodies.Message(Body));
        var frame = new byte[Frame.HeaderBytes + plaintext.Length + RecordCipher.TagBytes];
        var header = ChatBodies.SealedHeader(plaintext.Length);
        header.CopyTo(frame, 0);
        using var sealer = new RecordCipher(ChatBodies.Keys());
        sealer.Seal(header, plaintext, frame.AsSpan(Frame.HeaderBytes));
        _frame = new ReadOnlySequence<byte>(frame);
    }

    [Benchmark]
    public long TryRead()
    {
        var buffer = _frame;
        return Frame.TryRead(ref buffer, Frame.DefaultMaxBodyBytes, out _, out _, out var body) ? body.Length : -1;
    }
}
