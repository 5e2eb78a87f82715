using BenchmarkDotNet.Attributes;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Benchmarks;

/// <summary>AES-256-GCM record seal and open (RFC 8446 §5.3 nonces) of one serialized CHAT.</summary>
/// <remarks>Benchmark classes cannot be sealed: BenchmarkDotNet runs them through a generated subclass.</remarks>
[MemoryDiagnoser]
public class RecordCipherBenchmarks
{
    // An opener accepts records only in sequence order, so each Open call opens a batch sealed in setup with a fresh
    // RecordCipher; the batch spreads that cipher's construction to about 1/1024 of its cost per record.
    private const int Batch = 1024;
    private DirectionKeys _keys = null!;
    private RecordCipher _sealer = null!;
    private byte[] _header = [];
    private byte[] _plaintext = [];
    private byte[] _sealed = [];
    private byte[] _opened = [];
    private byte[][] _records = [];

    [ParamsAllValues]
    public ChatBody Body { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _plaintext = MessageCodec.ToBytes(ChatBodies.Message(Body));
        _header = ChatBodies.SealedHeader(_plaintext.Length);
        _keys = ChatBodies.Keys();
        _sealer = new RecordCipher(_keys);
        _sealed = new byte[_plaintext.Length + RecordCipher.TagBytes];
        _opened = new byte[_plaintext.Length];
        _records = new byte[Batch][];
        using var batchSealer = new RecordCipher(_keys);
        for (var i = 0; i < Batch; i++)
        {
            _records[i] = new byte[_sealed.Length];
            batchSealer.Seal(_header, _plaintext, _records[i]);
        }

        if (!Open())
        {
            throw new InvalidOperationException("The sealed batch does not open.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _sealer.Dispose();

    [Benchmark]
    public byte Seal()
    {
        _sealer.Seal(_header, _plaintext, _sealed);
        return _sealed[^1];
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public bool Open()
    {
        using var opener = new RecordCipher(_keys);
        var opened = true;
        foreach (var record in _records)
        {
            opened &= opener.TryOpen(_header, record, _opened);
        }

        return opened;
    }
}
