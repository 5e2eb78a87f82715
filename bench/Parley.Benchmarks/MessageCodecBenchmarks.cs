using System.Buffers;
using BenchmarkDotNet.Attributes;
using Parley.Protocol.Messages;

namespace Parley.Benchmarks;

/// <summary>CHAT to and from its JSON, the codec step of every record sent and received.</summary>
/// <remarks>Benchmark classes cannot be sealed: BenchmarkDotNet runs them through a generated subclass.</remarks>
[MemoryDiagnoser]
public class MessageCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private Chat _chat = null!;
    private byte[] _json = [];

    [ParamsAllValues]
    public ChatBody Body { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chat = ChatBodies.Message(Body);
        _json = MessageCodec.ToBytes(_chat);
    }

    /// <summary>Into a reused buffer, as <c>MessageChannel.Write</c> does.</summary>
    [Benchmark]
    public int Serialize()
    {
        _buffer.ResetWrittenCount();
        MessageCodec.Write(_buffer, _chat);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public ParleyMessage Deserialize() => MessageCodec.Read(_json);
}
