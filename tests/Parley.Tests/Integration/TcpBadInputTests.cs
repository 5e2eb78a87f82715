using System.Security.Cryptography;
using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>Issue #2: each bad input gets a clear ERROR or a clean close of that one connection, then a healthy client is still served.</summary>
public sealed class TcpBadInputTests
{
    [Fact]
    public async Task Malformed_JSON_before_CONNECT_gets_BAD_MESSAGE_and_a_close()
    {
        await using var server = await InProcessServer.StartAsync();
        await using (var raw = await RawTcp.ConnectAsync(server))
        {
            await raw.SendAsync(RawWire.PlainFrame(RawWire.Json("{\"msgtype\":\"CONNECT\",")));
            var error = Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync()));
            Assert.Equal(ErrorCodes.BadMessage, error.Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_first_message_other_than_CONNECT_gets_NOT_ALLOWED_and_a_close()
    {
        await using var server = await InProcessServer.StartAsync();
        await using (var raw = await RawTcp.ConnectAsync(server))
        {
            await raw.SendAsync(RawWire.PlainFrame(new ChatRequest("bob")));
            Assert.Equal(ErrorCodes.NotAllowed, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_frame_over_the_size_limit_is_refused_from_its_header()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MaxFrameBytes = 4096, MaxMessageBytes = 512 });
        await using (var raw = await RawTcp.ConnectAsync(server))
        {
            var header = new byte[5];
            Protocol.Framing.Frame.WriteHeader(header, 4097, Protocol.Framing.FrameKind.Plain);
            await raw.SendAsync(header); // no body: the server must not wait for 4 KiB it will not accept
            Assert.Equal(ErrorCodes.FrameTooLarge, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task Random_bytes_close_the_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        await using (var raw = await RawTcp.ConnectAsync(server))
        {
            var junk = RandomNumberGenerator.GetBytes(64);
            junk[0] = 0xFF; // a length far over any limit, so the server refuses at once
            await raw.SendAsync(junk);
            Assert.All(await raw.ExpectClosedAsync(), m => Assert.IsType<Error>(m));
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_silent_connection_is_closed_after_the_connect_timeout()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { ConnectTimeout = TimeSpan.FromMilliseconds(300) });
        await using (var raw = await RawTcp.ConnectAsync(server))
        {
            Assert.Empty(await raw.ExpectClosedAsync());
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task Unknown_msgtype_and_malformed_messages_on_a_protected_link_get_an_ERROR_and_the_link_goes_on()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a"));

        await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, RawWire.Json("""{"msgtype":"SHOUT","text":"hi"}""")));
        Assert.Equal(ErrorCodes.UnknownMsgType, Assert.IsType<Error>(await raw.ReadAsync()).Code);
        await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, RawWire.Json("""{"msgtype":"CHAT_REQUEST"}""")));
        Assert.Equal(ErrorCodes.BadMessage, Assert.IsType<Error>(await raw.ReadAsync()).Code);
        await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, new Connect("alice", "again")));
        Assert.Equal(ErrorCodes.NotAllowed, Assert.IsType<Error>(await raw.ReadAsync()).Code);
        await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, new Chat("nosession", "hello")));
        Assert.Equal(ErrorCodes.NotInSession, Assert.IsType<Error>(await raw.ReadAsync()).Code);
        await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, new ChatRequest("nobody")));
        Assert.IsType<Unreachable>(await raw.ReadAsync());

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_tampered_record_closes_that_connection_only()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using (var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a")))
        {
            var frame = RawWire.SealedFrame(raw.Sealer!, new ChatRequest("bob"));
            frame[^1] ^= 0x80;
            await raw.SendAsync(frame);
            Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_replayed_record_closes_that_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using (var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a")))
        {
            var frame = RawWire.SealedFrame(raw.Sealer!, new ChatRequest("nobody"));
            await raw.SendAsync(frame);
            Assert.IsType<Unreachable>(await raw.ReadAsync());
            await raw.SendAsync(frame);
            Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    // Two frames arrive together and the server stops at the first, so the second may be unread when it closes; the
    // kernel then resets the connection and the closing ERROR can be lost. Only the close is certain.
    [Fact]
    public async Task Reordered_records_close_that_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using (var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a")))
        {
            var first = RawWire.SealedFrame(raw.Sealer!, new ChatRequest("x1"));
            var second = RawWire.SealedFrame(raw.Sealer!, new ChatRequest("x2"));
            await raw.SendAsync(second);
            await raw.SendAsync(first);
            Assert.All(await raw.ExpectClosedAsync(), m => Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(m).Code));
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_dropped_record_makes_the_next_one_close_the_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using (var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a")))
        {
            _ = RawWire.SealedFrame(raw.Sealer!, new ChatRequest("lost")); // sealed with sequence 0, never sent
            await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, new ChatRequest("arrives")));
            Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task A_plaintext_frame_after_CONNECT_closes_the_connection()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "a");
        await using (var raw = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "a")))
        {
            await raw.SendAsync(RawWire.PlainFrame(new ChatRequest("bob")));
            Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
        }

        await Healthy.AssertServesAsync(server);
    }
}
