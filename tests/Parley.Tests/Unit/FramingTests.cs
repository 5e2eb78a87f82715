using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

public sealed class FramingTests
{
    [Fact]
    public void An_oversized_frame_is_refused_from_its_header_alone()
    {
        var header = new byte[Frame.HeaderBytes];
        Frame.WriteHeader(header, 1_000_000, FrameKind.Plain);
        var buffer = new ReadOnlySequence<byte>(header);
        var e = Assert.Throws<ProtocolException>(() => Frame.TryRead(ref buffer, 64 * 1024, out _, out _, out _));
        Assert.Equal(ErrorCodes.FrameTooLarge, e.Code);
        Assert.True(e.Fatal);
    }

    [Fact]
    public void A_partial_frame_waits_for_the_rest()
    {
        var frame = RawWire.PlainFrame(RawWire.Json("""{"msgtype":"PING"}"""));
        var partial = new ReadOnlySequence<byte>(frame, 0, frame.Length - 1);
        Assert.False(Frame.TryRead(ref partial, 1024, out _, out _, out _));
        var whole = new ReadOnlySequence<byte>(frame);
        Assert.True(Frame.TryRead(ref whole, 1024, out var kind, out _, out var body));
        Assert.Equal(FrameKind.Plain, kind);
        Assert.Equal(frame.Length - Frame.HeaderBytes, body.Length);
        Assert.Equal(0, whole.Length);
    }

    [Fact]
    public async Task Frames_that_arrive_together_are_all_read()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(RawWire.PlainFrame(RawWire.Json("""{"msgtype":"PING"}""")).Concat(RawWire.PlainFrame(RawWire.Json("""{"msgtype":"LOG_OFF"}"""))).ToArray());
        await pipe.Writer.CompleteAsync();
        using var channel = new MessageChannel(new DuplexPipe(pipe.Reader, new Pipe().Writer));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.IsType<Ping>(await channel.ReadAsync(timeout.Token));
        Assert.IsType<LogOff>(await channel.ReadAsync(timeout.Token));
        Assert.Null(await channel.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_frame_is_an_error()
    {
        var pipe = new Pipe();
        var frame = RawWire.PlainFrame(RawWire.Json("""{"msgtype":"PING"}"""));
        await pipe.Writer.WriteAsync(frame.AsMemory(0, 8));
        await pipe.Writer.CompleteAsync();
        using var channel = new MessageChannel(new DuplexPipe(pipe.Reader, new Pipe().Writer));
        var e = await Assert.ThrowsAsync<ProtocolException>(async () => await channel.ReadAsync(CancellationToken.None));
        Assert.True(e.Fatal);
    }

    [Fact]
    public async Task Sealed_messages_round_trip_between_two_channels()
    {
        var c2s = new DirectionKeys(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));
        var s2c = new DirectionKeys(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));
        var toServer = new Pipe();
        var toClient = new Pipe();
        using var client = new MessageChannel(new DuplexPipe(toClient.Reader, toServer.Writer));
        using var server = new MessageChannel(new DuplexPipe(toServer.Reader, toClient.Writer));
        client.Protect(c2s, s2c);
        server.Protect(s2c, c2s);

        await client.SendAsync(new Chat("s1", "héllo ✓"), CancellationToken.None);
        Assert.Equal(new Chat("s1", "héllo ✓"), await server.ReadAsync(CancellationToken.None));
        await server.SendAsync(new Chat("s1", "back", "bob", 42), CancellationToken.None);
        Assert.Equal(new Chat("s1", "back", "bob", 42), await client.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_plaintext_frame_on_a_protected_channel_is_fatal()
    {
        var keys = new DirectionKeys(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12));
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(RawWire.PlainFrame(RawWire.Json("""{"msgtype":"PING"}""")));
        using var channel = new MessageChannel(new DuplexPipe(pipe.Reader, new Pipe().Writer));
        channel.Protect(keys, keys);
        var e = await Assert.ThrowsAsync<ProtocolException>(async () => await channel.ReadAsync(CancellationToken.None));
        Assert.Equal(ErrorCodes.RecordInvalid, e.Code);
        Assert.True(e.Fatal);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
