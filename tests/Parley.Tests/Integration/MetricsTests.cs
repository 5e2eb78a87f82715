using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #7: the loopback metrics port. <c>/metrics</c> and <c>/healthz</c> answer, and a scenario's log-ons,
/// sessions and messages show up as exact deltas. Each server has its own meter, so tests running beside this one
/// (and a second server here) add nothing to its counts.
/// </summary>
public sealed class MetricsTests
{
    private const int Chats = 5;

    [Fact]
    public async Task Metrics_count_a_scenarios_log_ons_sessions_messages_and_bytes_and_a_second_server_counts_none_of_it()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MetricsPort = 0, LockoutThreshold = 2 });
        await using var other = await InProcessServer.StartAsync(o => o with { MetricsPort = 0 });
        using var http = new HttpClient { Timeout = InProcessServer.Timeout };
        var before = await ScrapeAsync(http, server);
        var otherBefore = await ScrapeAsync(http, other);

        await using var alice = await server.AddAndLogOnAsync("alice");
        await using var bob = await server.AddAndLogOnAsync("bob");
        await using var carol = await server.AddAndLogOnAsync("carol");

        // One wrong password; then an unknown ID fails twice, which locks it, and its next HELLO gets no challenge.
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "wrong"));
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("eve", "guess"));
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("eve", "guess again"));
        await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("eve", "locked now"));

        var session = await alice.StartChatWithAsync(bob, "bob");
        for (var i = 0; i < Chats; i++)
        {
            await alice.SendAsync(new Chat(session, $"chat {i}"));
            Assert.Equal($"chat {i}", (await bob.ExpectAsync<Chat>()).Message);
        }

        // DM_SENT is queued after its DM is counted, and the history writer commits in order: every CHAT before it is counted too.
        await SendDmAsync(alice, "carol", "a dm", "d1");
        Assert.Equal("a dm", (await carol.ExpectAsync<Dm>()).Message);

        await JoinAsync(alice, "#metrics");
        await JoinAsync(bob, "#metrics");
        await JoinAsync(carol, "#metrics");
        await alice.ExpectAsync<RoomNotice>();
        await alice.ExpectAsync<RoomNotice>();
        await bob.ExpectAsync<RoomNotice>();
        await alice.SendAsync(new Say("#metrics", "hello room"));
        Assert.Equal("hello room", (await bob.ExpectAsync<Say>()).Message);
        Assert.Equal("hello room", (await carol.ExpectAsync<Say>()).Message);
        await alice.ExpectNothingPendingAsync(); // the SAY was handled (and counted) before this request

        var after = await ScrapeAsync(http, server);
        double Delta(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

        Assert.Equal(3, Delta("parley_connections_accepted_total"));
        Assert.Equal(3, after["parley_connections_open"]);
        Assert.Equal(3, Delta("parley_logons_total{result=\"ok\"}"));
        Assert.Equal(3, Delta("parley_logons_total{result=\"failed\"}"));
        Assert.Equal(1, Delta("parley_logons_total{result=\"locked\"}"));
        Assert.Equal(6, Delta("parley_handshakes_total{result=\"challenged\"}"));
        Assert.Equal(1, Delta("parley_handshakes_total{result=\"locked\"}"));
        Assert.Equal(1, Delta("parley_sessions_started_total"));
        Assert.Equal(1, after["parley_sessions_active"]);
        Assert.Equal(Chats, Delta("parley_messages_relayed_total{kind=\"chat\"}"));
        Assert.Equal(1, Delta("parley_messages_relayed_total{kind=\"dm\"}"));
        Assert.Equal(2, Delta("parley_messages_relayed_total{kind=\"room\"}")); // once per other member
        Assert.Equal(Chats, Delta("parley_messages_stored_total{kind=\"chat\"}"));
        Assert.Equal(1, Delta("parley_messages_stored_total{kind=\"dm\"}"));
        Assert.DoesNotContain("parley_messages_stored_total{kind=\"room\"}", after.Keys); // rooms are never stored
        Assert.Equal(Chats + 2, Delta("parley_chat_messages_received_total"));
        Assert.True(Delta("parley_bytes_received_total") > Delta("parley_chat_bytes_received_total"), "frames carry more than the bodies");
        Assert.True(Delta("parley_bytes_sent_total") > 0);
        Assert.True(after.ContainsKey("parley_history_queue_depth") && after.ContainsKey("parley_outbound_queue_depth"));

        // The other server saw none of it.
        var otherAfter = await ScrapeAsync(http, other);
        Assert.Equal(otherBefore.GetValueOrDefault("parley_chat_messages_received_total"), otherAfter.GetValueOrDefault("parley_chat_messages_received_total"));
        Assert.DoesNotContain(otherAfter.Keys, k => k.StartsWith("parley_messages_relayed_total", StringComparison.Ordinal));
        Assert.DoesNotContain(otherAfter.Keys, k => k.StartsWith("parley_logons_total", StringComparison.Ordinal));

        // Bob leaves: the router takes him offline and ends the session before alice's END_NOTIF is queued.
        await bob.LogOffAsync();
        Assert.Equal(session, (await SkipNoticesAsync<EndNotif>(alice)).SessionId); // past "bob left #metrics"
        var gone = await ScrapeAsync(http, server);
        Assert.Equal((2.0, 0.0), (gone["parley_connections_open"], gone["parley_sessions_active"]));
    }

    [Fact]
    public async Task The_exposition_has_help_and_type_lines_and_healthz_answers_ok()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { MetricsPort = 0 });
        using var http = new HttpClient { Timeout = InProcessServer.Timeout };
        var port = server.Server.MetricsEndPoint!.Port;

        using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", await health.Content.ReadAsStringAsync());

        using var metrics = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        var lines = (await metrics.Content.ReadAsStringAsync()).Split('\n');
        Assert.Contains("# TYPE parley_messages_relayed_total counter", lines);
        Assert.Contains("# HELP parley_connections_accepted_total TCP connections accepted on the chat port (before CONNECT)", lines);
        Assert.Contains("# TYPE parley_connections_open gauge", lines);
        Assert.Contains("# TYPE parley_outbound_queue_depth gauge", lines);
        Assert.Contains("parley_connections_open 0", lines);

        using var missing = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/nothing-here"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_metrics_port_is_on_127_0_0_1_even_when_the_server_listens_elsewhere()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Address = IPAddress.Parse("127.0.0.2"), MetricsPort = 0 });
        var endPoint = server.Server.MetricsEndPoint;

        Assert.NotNull(endPoint);
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        Assert.NotEqual(0, endPoint.Port);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), server.Server.TcpEndPoint.Address);

        // Nothing answers on the server's own address at that port.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
            await probe.ConnectAsync(new IPEndPoint(IPAddress.Parse("127.0.0.2"), endPoint.Port), Timeout()));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Without_a_metrics_port_there_is_no_HTTP_endpoint_and_the_chat_port_never_speaks_HTTP()
    {
        await using var server = await InProcessServer.StartAsync();
        Assert.Null(server.Server.MetricsEndPoint);

        // "GET " read as a frame header is a 1.2 GB length: the chat port refuses it with its own ERROR frame and closes.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Server.TcpEndPoint, Timeout());
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray(), Timeout());
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, Timeout());
        var text = Encoding.UTF8.GetString(answer.ToArray());
        Assert.DoesNotContain("HTTP/", text, StringComparison.Ordinal);
        Assert.Contains(ErrorCodes.FrameTooLarge, text, StringComparison.Ordinal);
    }

    /// <summary>GET /metrics, parsed into series (name with labels, as written) and values.</summary>
    internal static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http, InProcessServer server)
    {
        var endPoint = server.Server.MetricsEndPoint!;
        var text = await http.GetStringAsync(new Uri($"http://{endPoint}/metrics"), Timeout());
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            var space = line.LastIndexOf(' ');
            series.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }

        return series;
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(InProcessServer.Timeout).Token;
}
