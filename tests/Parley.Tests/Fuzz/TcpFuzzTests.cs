using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Fuzz.Support;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>
/// Issue #9, live: random and mutated TCP input against a running server while two other clients chat. Before
/// CONNECT every connection gets the one plaintext ERROR the framing rules give its first frame, then a close
/// (docs/PROTOCOL.md §2.2, §7.3); after CONNECT, mutated and out-of-state messages inside valid seals each get their
/// ERROR and the link goes on, and a damaged frame gets its fatal ERROR and a close (§4.4, §4.5, §7.4). The server
/// logs no error, a genuine client still logs on, and the chatting pair receives every message.
/// </summary>
public sealed class TcpFuzzTests(ITestOutputHelper output)
{
    private static readonly Gen<byte[]> FirstFrames = Gen.OneOf(
        from message in MessageCorpus.Encoded
        from mutations in JsonMutator.Stacks
        select RawWire.PlainFrame(JsonMutator.Apply(message, mutations)),
        from message in MessageCorpus.Encoded
        from mutations in JsonMutator.Stacks
        select JsonMutator.Apply(RawWire.PlainFrame(message), mutations),
        Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(),
        Gen.Elements(RawWire.PlainFrame(new Connect("alice", "not-a-cookie")), RawWire.PlainFrame(new Hello("alice", new string('n', 20), "k")),
            RawWire.PlainFrame(new Chat("s", "no session")), [0xFF, 0xFF, 0xFF, 0xFF, 0x00], [0x7F, 0xFF, 0xFF, 0xFF, 0x01], [0, 0, 0, 2, 7, (byte)'{', (byte)'}']));

    private static readonly FatalFrame[] Fatal =
    [
        new("a flipped tag bit", s => Damage(RawWire.SealedFrame(s, new Ping()), ^1), "RECORD_INVALID"),
        new("a flipped ciphertext bit", s => Damage(RawWire.SealedFrame(s, new ChatRequest("bob")), 7), "RECORD_INVALID"),
        new("a shortened length", s => Shorten(RawWire.SealedFrame(s, new Ping())), "RECORD_INVALID"),
        new("a record shorter than a tag", s => [0, 0, 0, 4, 1, 1, 2, 3, 4], "RECORD_INVALID"),
        new("a plaintext frame", s => RawWire.PlainFrame(new Ping()), "RECORD_INVALID"),
        new("a replayed record", s => Replay(s), "RECORD_INVALID"),
        new("an unknown kind", s => [0, 0, 0, 2, 9], "BAD_MESSAGE"),
        new("a length of 2^32-1", s => [0xFF, 0xFF, 0xFF, 0xFF, 1], "FRAME_TOO_LARGE"),
    ];

    private static readonly Gen<byte[]> SealedBodies = Gen.Frequency(
        (4, from message in MessageCorpus.Encoded from mutations in JsonMutator.Stacks select JsonMutator.Apply(message, mutations)),
        (1, Gen.Elements(MessageCorpus.Messages.Where(m => m is not LogOff)).Select(MessageCodec.ToBytes)));

    [Fact]
    public async Task Hostile_first_frames_each_get_their_plaintext_ERROR_and_a_close()
    {
        await using var fuzz = await FuzzServer.StartAsync();
        await using var pair = await ChatterPair.StartAsync(fuzz.Server);
        var cases = FuzzRun.Sample(FirstFrames, FuzzRun.Cases(300));
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var stream = FirstFrameOnly(cases[i], fuzz.Server.Options.MaxFrameBytes);
            var expected = ExpectedRefusal(stream, fuzz.Server.Options.MaxFrameBytes, out var endsEarly);
            var replies = await ExchangeAsync(fuzz.Server, stream, endsEarly);

            // A stream that ends inside its first frame leaves nobody to tell (§2.2): the ERROR may be lost with the link.
            if (!(replies is [Error { Code: var code }] && code == expected || endsEarly && replies is []))
            {
                failures.Add($"case {i} ({Convert.ToHexString(stream.AsSpan(0, Math.Min(stream.Length, 48)))}): expected ERROR {expected} and a close, got [{string.Join(", ", replies)}]");
            }

            await fuzz.CheckAsync(i, failures);
        }

        await fuzz.FinishAsync(pair, output, "tcp.first-frames", cases.Count, failures);
    }

    [Fact]
    public async Task Hostile_records_after_CONNECT_get_their_ERROR_and_only_damaged_frames_close_the_link()
    {
        await using var fuzz = await FuzzServer.StartAsync();
        await using var pair = await ChatterPair.StartAsync(fuzz.Server);

        // A case is one logged-on link: up to 12 sealed messages, mutated or out of state, and sometimes a damaged frame last.
        var generator = from bodies in SealedBodies.ArrayOf().Select(a => a.Take(12).ToArray())
                        from fatal in Gen.Frequency((2, Gen.Constant<FatalFrame?>(null)), (1, Gen.Elements(Fatal).Select(f => (FatalFrame?)f)))
                        select (Bodies: bodies, Fatal: fatal);
        var cases = FuzzRun.Sample(generator, FuzzRun.Cases(60));
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            if (await SealedCase.RunAsync(fuzz, fuzz.NewUser("fz"), cases[i].Bodies, cases[i].Fatal) is { } failure)
            {
                failures.Add($"case {i} ({cases[i].Bodies.Length} records, then {cases[i].Fatal?.Name ?? "the sentinel"}): {failure}");
            }

            await fuzz.CheckAsync(i, failures);
        }

        await fuzz.FinishAsync(pair, output, "tcp.sealed", cases.Count, failures);
    }

    private static byte[] Damage(byte[] frame, Index at)
    {
        frame[at] ^= 0x10;
        return frame;
    }

    private static byte[] Replay(RecordCipher sealer)
    {
        var first = RawWire.SealedFrame(sealer, new Ping());
        return [.. first, .. first];
    }

    private static byte[] Shorten(byte[] frame)
    {
        frame[3]--; // the length's last byte: the header (the associated data) changes and the body loses a byte
        return frame;
    }

    /// <summary>
    /// The bytes up to the end of the first frame (the header alone when the header is refused): the server reads
    /// exactly these, so its refusal is not lost to a reset caused by unread bytes.
    /// </summary>
    private static byte[] FirstFrameOnly(byte[] stream, int limit)
    {
        if (stream.Length < Frame.HeaderBytes)
        {
            return stream;
        }

        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(stream);
        return length > limit || stream[4] > 1 ? stream[..Frame.HeaderBytes] : stream[..(int)Math.Min(stream.Length, Frame.HeaderBytes + length)];
    }

    /// <summary>
    /// §7.3: the refusal the first frame earns. <paramref name="endsEarly"/> when the stream stops short of a whole
    /// first frame (EOF before any frame is not CONNECT either, EOF inside one is BAD_MESSAGE).
    /// </summary>
    private static string ExpectedRefusal(byte[] stream, int limit, out bool endsEarly)
    {
        var first = ChannelHarness.ExpectedPlain(stream, limit)[0];
        var header = stream.Length >= Frame.HeaderBytes;
        endsEarly = first == "EOF" || (first == "!" + ErrorCodes.BadMessage && (!header
            || (stream[4] <= 1 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(stream) > stream.Length - Frame.HeaderBytes)));
        return first switch
        {
            "EOF" => ErrorCodes.NotAllowed,
            ['!', .. var code] => code,
            var json => MessageCorpus.Decode(System.Text.Encoding.UTF8.GetBytes(json)).Message is Connect ? ErrorCodes.CookieInvalid : ErrorCodes.NotAllowed,
        };
    }

    /// <summary>
    /// Sends the bytes, half-closes when they stop inside the first frame (so the server meets EOF at once rather
    /// than its connect timeout), and reads the plaintext replies until the close.
    /// </summary>
    private static async Task<List<ParleyMessage>> ExchangeAsync(InProcessServer server, byte[] stream, bool endsEarly)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Server.TcpEndPoint);
        var network = tcp.GetStream();
        await network.WriteAsync(stream);
        if (endsEarly)
        {
            tcp.Client.Shutdown(SocketShutdown.Send);
        }

        using var channel = new MessageChannel(new StreamDuplexPipe(network));
        var replies = new List<ParleyMessage>();
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        try
        {
            while (await channel.ReadAsync(timeout.Token) is { } message)
            {
                replies.Add(message);
            }
        }
        catch (IOException)
        {
            // Reset after the server's last words.
        }

        return replies;
    }
}
