using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Tests.Fuzz.Support;

/// <summary>
/// Feeds a byte stream to a <see cref="MessageChannel"/> in the chunks given (a writer task flushes each one while the
/// channel reads, so frames arrive split across reads) and records what the channel made of it: each message as
/// its JSON, each <see cref="ProtocolException"/> as "!CODE" (fatal ones end the stream), a clean end as "EOF".
/// Any other exception escapes to the caller.
/// </summary>
internal static class ChannelHarness
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static List<string> Read(byte[] stream, IReadOnlyList<int> chunkSizes, int maxBodyBytes, DirectionKeys? receive = null) =>
        ReadAsync(stream, chunkSizes, maxBodyBytes, receive).GetAwaiter().GetResult();

    private static async Task<List<string>> ReadAsync(byte[] stream, IReadOnlyList<int> chunkSizes, int maxBodyBytes, DirectionKeys? receive)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64, useSynchronizationContext: false));
        var writing = Task.Run(async () =>
        {
            var at = 0;
            for (var i = 0; at < stream.Length; i++)
            {
                var size = Math.Min(stream.Length - at, Math.Max(1, chunkSizes.Count == 0 ? stream.Length : chunkSizes[i % chunkSizes.Count]));
                var flushed = await pipe.Writer.WriteAsync(stream.AsMemory(at, size));
                at += size;
                if (flushed.IsCompleted)
                {
                    break; // the reader stopped at a fatal error
                }
            }

            await pipe.Writer.CompleteAsync();
        });

        var outcomes = new List<string>();
        using var channel = new MessageChannel(new Duplex(pipe.Reader, new Pipe().Writer), maxBodyBytes);
        if (receive is not null)
        {
            channel.Protect(receive, receive);
        }

        using var timeout = new CancellationTokenSource(Bound);
        while (true)
        {
            try
            {
                if (await channel.ReadAsync(timeout.Token) is not { } message)
                {
                    outcomes.Add("EOF");
                    break;
                }

                outcomes.Add(Encoding.UTF8.GetString(MessageCodec.ToBytes(message)));
            }
            catch (ProtocolException e)
            {
                outcomes.Add("!" + e.Code);
                if (e.Fatal)
                {
                    break;
                }
            }
        }

        await pipe.Reader.CompleteAsync();
        await writing.WaitAsync(Bound);
        return outcomes;
    }

    /// <summary>
    /// docs/PROTOCOL.md §2.2 for plain frames, written out independently of <see cref="Frame"/>: the outcomes a
    /// receiver that has no keys yet must produce for <paramref name="stream"/>.
    /// </summary>
    public static List<string> ExpectedPlain(byte[] stream, int maxBodyBytes)
    {
        var outcomes = new List<string>();
        var at = 0;
        while (true)
        {
            if (stream.Length - at < Frame.HeaderBytes)
            {
                outcomes.Add(at == stream.Length ? "EOF" : "!" + ErrorCodes.BadMessage); // EOF between frames, or inside one
                return outcomes;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(at));
            var kind = stream[at + 4];
            if (length > (uint)maxBodyBytes)
            {
                outcomes.Add("!" + ErrorCodes.FrameTooLarge);
                return outcomes;
            }

            if (kind > 1)
            {
                outcomes.Add("!" + ErrorCodes.BadMessage);
                return outcomes;
            }

            if (stream.Length - at - Frame.HeaderBytes < length)
            {
                outcomes.Add("!" + ErrorCodes.BadMessage);
                return outcomes;
            }

            if (kind == 1)
            {
                outcomes.Add("!" + ErrorCodes.NotAllowed); // a sealed record before CONNECT (§2.3)
                return outcomes;
            }

            var (message, code) = MessageCorpus.Decode(stream.AsSpan(at + Frame.HeaderBytes, (int)length));
            outcomes.Add(message is null ? "!" + code : Encoding.UTF8.GetString(MessageCodec.ToBytes(message)));
            at += Frame.HeaderBytes + (int)length;
        }
    }
}

/// <summary>A reader and a writer as one transport, for a channel over in-memory pipes.</summary>
internal sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
