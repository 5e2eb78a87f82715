using System.Buffers;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Tests.Fuzz.Support;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>
/// Issue #9: the frame parser over random, mutated and truncated byte streams, split at random points. The channel
/// yields exactly what docs/PROTOCOL.md §2.2 says (a message, a defined ERROR code, a clean end), never another
/// exception; a header announcing more than the limit is refused before any of its body is buffered.
/// </summary>
public sealed class FrameFuzzTests(ITestOutputHelper output)
{
    private const int Limit = 4096;

    private static readonly Gen<int[]> Chunks = Gen.Choose(1, 300).ArrayOf().Select(a => a.Length == 0 ? [int.MaxValue] : a);

    /// <summary>Plain frames of well-formed messages, some with a wrong kind byte or length, then byte mutations over the whole stream.</summary>
    private static readonly Gen<byte[]> MutatedStreams =
        from messages in MessageCorpus.Encoded.ArrayOf().Select(a => a.Take(6).ToArray())
        from mutations in JsonMutator.Stacks
        select JsonMutator.Apply([.. messages.SelectMany(m => RawWire.PlainFrame(m))], mutations);

    private static readonly Gen<byte[]> RandomStreams = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();

    /// <summary>A header with any length and kind byte, then up to 100 bytes: huge declared lengths and unknown kinds.</summary>
    private static readonly Gen<byte[]> Headers =
        from length in Gen.OneOf(Gen.Choose(0, int.MaxValue).Select(n => (uint)n * 2 + 1), Gen.Choose(Limit - 2, Limit + 2).Select(n => (uint)n),
            Gen.Elements(uint.MaxValue, (uint)int.MaxValue, 0x8000_0000u))
        from kind in Gen.Frequency((3, Gen.Choose(0, 1)), (1, Gen.Choose(2, 255)))
        from body in RandomStreams.Select(b => b.Take(100).ToArray())
        select (byte[])[(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, (byte)kind, .. body];

    [Fact]
    public void Any_byte_stream_reads_as_the_framing_rules_say() =>
        FuzzRun.Check(output, nameof(FrameFuzzTests) + ".streams", 1500,
            Prop.ForAll(Arb.From(Gen.OneOf(MutatedStreams, MutatedStreams, RandomStreams, Headers)), Arb.From(Chunks), (stream, chunks) =>
            {
                var actual = ChannelHarness.Read(stream, chunks, Limit);
                var expected = ChannelHarness.ExpectedPlain(stream, Limit);
                return actual.SequenceEqual(expected).Label($"expected [{string.Join(" | ", expected)}], read [{string.Join(" | ", actual)}]");
            }));

    [Fact]
    public void A_header_alone_is_refused_when_too_large_and_otherwise_waits_for_its_body() =>
        FuzzRun.Check(output, nameof(FrameFuzzTests) + ".headers", 3000,
            Prop.ForAll(Arb.From(Headers), Arb.From(Gen.Choose(Frame.HeaderBytes, Frame.MaximumBodyBytes)), (bytes, limit) =>
            {
                var buffer = new ReadOnlySequence<byte>(bytes, 0, Frame.HeaderBytes);
                var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
                try
                {
                    var complete = Frame.TryRead(ref buffer, limit, out _, out _, out _);
                    return (!complete && length <= limit && bytes[4] <= 1 && buffer.Length == Frame.HeaderBytes) || (complete && length == 0 && bytes[4] <= 1);
                }
                catch (ProtocolException e)
                {
                    return e.Fatal && (length > limit ? e.Code == ErrorCodes.FrameTooLarge : bytes[4] > 1 && e.Code == ErrorCodes.BadMessage);
                }
            }));

    [Theory]
    [InlineData(uint.MaxValue)]
    [InlineData((uint)int.MaxValue)]
    [InlineData((uint)Frame.MaximumBodyBytes + 1)]
    public async Task A_huge_declared_length_is_refused_before_its_body_is_buffered(uint declared)
    {
        // Warm up once, so the measurement sees the read, not first-call costs.
        await ExpectFrameTooLargeAsync(declared);
        var allocated = await ExpectFrameTooLargeAsync(declared);
        output.WriteLine($"refusing a header of {declared} bytes allocated {allocated} bytes");
        Assert.True(allocated < Frame.MaximumBodyBytes / 16, $"{allocated} bytes allocated to refuse one header");
    }

    [Fact]
    public async Task A_frame_at_the_limit_waits_for_its_body_without_buffering_ahead()
    {
        await WaitForBodyAsync();
        var allocated = await WaitForBodyAsync();
        output.WriteLine($"waiting for a {Frame.MaximumBodyBytes}-byte body allocated {allocated} bytes");
        Assert.True(allocated < Frame.MaximumBodyBytes / 16, $"{allocated} bytes allocated before any body arrived");
    }

    private static async Task<long> ExpectFrameTooLargeAsync(uint declared)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { (byte)(declared >> 24), (byte)(declared >> 16), (byte)(declared >> 8), (byte)declared, 0, (byte)'{' });
        using var channel = new MessageChannel(new Duplex(pipe.Reader, new Pipe().Writer), Frame.MaximumBodyBytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        ProtocolException? refused = null;
        try
        {
            // The bytes are already in the pipe, so the read completes synchronously, on this thread.
            var read = channel.ReadAsync(CancellationToken.None);
            Assert.True(read.IsCompleted);
            await read;
        }
        catch (ProtocolException e)
        {
            refused = e;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ErrorCodes.FrameTooLarge, refused?.Code);
        Assert.True(refused!.Fatal);
        return allocated;
    }

    private static async Task<long> WaitForBodyAsync()
    {
        var pipe = new Pipe();
        var header = new byte[Frame.HeaderBytes];
        Frame.WriteHeader(header, Frame.MaximumBodyBytes, FrameKind.Plain);
        await pipe.Writer.WriteAsync(header);
        using var channel = new MessageChannel(new Duplex(pipe.Reader, new Pipe().Writer), Frame.MaximumBodyBytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = channel.ReadAsync(CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(read.IsCompleted);
        await pipe.Writer.CompleteAsync();
        Assert.Equal(ErrorCodes.BadMessage, (await Assert.ThrowsAsync<ProtocolException>(async () => await read)).Code);
        return allocated;
    }
}
