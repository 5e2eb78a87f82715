using System.Threading.Channels;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Fuzz.Support;

/// <summary>
/// Two well-behaved clients chatting both ways for the whole of a fuzz run, at a steady 50 messages a second each
/// (well under a per-connection rate limit): the proof that hostile input on other connections leaves everyone else
/// served. <see cref="StopAsync"/> fails unless each side received every message the other sent, in order.
/// </summary>
internal sealed class ChatterPair : IAsyncDisposable
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(20);

    private readonly ParleyConnection _first;
    private readonly ParleyConnection _second;
    private readonly string _session;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<string> _atFirst = Channel.CreateUnbounded<string>();
    private readonly Channel<string> _atSecond = Channel.CreateUnbounded<string>();
    private readonly Task<int> _firstSending;
    private readonly Task<int> _secondSending;
    private readonly Task _receiving;

    private ChatterPair(ParleyConnection first, ParleyConnection second, string session)
    {
        _first = first;
        _second = second;
        _session = session;
        _firstSending = SendAsync(first, "a");
        _secondSending = SendAsync(second, "b");
        _receiving = Task.WhenAll(ReceiveAsync(first, _atFirst.Writer), ReceiveAsync(second, _atSecond.Writer));
    }

    public static async Task<ChatterPair> StartAsync(InProcessServer server)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var first = await server.AddAndLogOnAsync("pair-a-" + suffix);
        var second = await server.AddAndLogOnAsync("pair-b-" + suffix);
        return new ChatterPair(first, second, await first.StartChatWithAsync(second, second.ClientId));
    }

    /// <summary>Stops sending and waits for the last messages; returns how many were exchanged.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        var (fromFirst, fromSecond) = (await _firstSending, await _secondSending);
        await ExpectAsync(_atSecond.Reader, "a", fromFirst);
        await ExpectAsync(_atFirst.Reader, "b", fromSecond);
        Assert.Null(_first.CloseReason);
        Assert.Null(_second.CloseReason);
        return fromFirst + fromSecond;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _receiving;
        _stop.Dispose();
    }

    private static async Task ExpectAsync(ChannelReader<string> received, string tag, int count)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal($"{tag}{i}", await received.ReadAsync(timeout.Token));
        }
    }

    private async Task<int> SendAsync(ParleyConnection from, string tag)
    {
        var sent = 0;
        using var timer = new PeriodicTimer(Pace);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await from.SendAsync(new Chat(_session, $"{tag}{sent}"), CancellationToken.None);
                sent++;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        return sent;
    }

    private static async Task ReceiveAsync(ParleyConnection at, ChannelWriter<string> received)
    {
        await foreach (var message in at.Events.ReadAllAsync())
        {
            if (message is Chat chat)
            {
                received.TryWrite(chat.Message);
            }
        }

        received.TryComplete();
    }
}
