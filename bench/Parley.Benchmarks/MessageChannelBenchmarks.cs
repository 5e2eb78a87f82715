using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Benchmarks;

/// <summary>
/// The whole per-message path of a protected connection through <see cref="MessageChannel"/> and a pipe, as the
/// server and the client run it: receive (frame, open, deserialize) and send (serialize, header, seal, flush).
/// </summary>
/// <remarks>Benchmark classes cannot be sealed: BenchmarkDotNet runs them through a generated subclass.</remarks>
[MemoryDiagnoser]
public class MessageChannelBenchmarks
{
    // Records open only in sequence order from a fresh channel, so each Receive call reads a batch written in setup
    // through a new channel; the batch spreads the channel's construction to about 1/1024 of its cost per message.
    private const int Batch = 1024;
    private static readonly PipeWriter Discard = PipeWriter.Create(Stream.Null);
    private readonly DirectionKeys _clientToServer = ChatBodies.Keys();
    private readonly DirectionKeys _serverToClient = ChatBodies.Keys();
    private Chat _chat = null!;
    private byte[] _frames = [];
    private Pipe _sendPipe = null!;
    private MessageChannel _sender = null!;

    [ParamsAllValues]
    public ChatBody Body { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _chat = ChatBodies.Message(Body);
        using (var stream = new MemoryStream())
        {
            var client = new MessageChannel(new DuplexPipe(PipeReader.Create(Stream.Null), PipeWriter.Create(stream)));
            using (client)
            {
                client.Protect(_clientToServer, _serverToClient);
                for (var i = 0; i < Batch; i++)
                {
                    client.Write(_chat);
                }

                client.FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            _frames = stream.ToArray();
        }

        _sendPipe = new Pipe();
        _sender = new MessageChannel(new DuplexPipe(_sendPipe.Reader, _sendPipe.Writer));
        _sender.Protect(_serverToClient, _clientToServer);
        if (Receive().GetAwaiter().GetResult() != Batch)
        {
            throw new InvalidOperationException("The written batch does not read back.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _sender.Dispose();

    /// <summary>The server's receive loop: <c>MessageChannel.ReadAsync</c> until the buffered frames run out.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task<int> Receive()
    {
        using var server = new MessageChannel(new DuplexPipe(PipeReader.Create(new ReadOnlySequence<byte>(_frames)), Discard));
        server.Protect(_serverToClient, _clientToServer);
        var count = 0;
        while (await server.ReadAsync(CancellationToken.None).ConfigureAwait(false) is Chat)
        {
            count++;
        }

        return count;
    }

    /// <summary>One message written and flushed into a pipe (flushed per message, as the client does), then drained.</summary>
    [Benchmark]
    public async Task Send()
    {
        _sender.Write(_chat);
        await _sender.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        if (_sendPipe.Reader.TryRead(out var result))
        {
            _sendPipe.Reader.AdvanceTo(result.Buffer.End);
        }
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
