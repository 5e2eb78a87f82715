using System.Net.Sockets;
using Parley.Client;
using Parley.Protocol.Messages;

namespace Parley.Tests.Support;

/// <summary>
/// A logged-on library client that records everything the server sends it until the link ends: the DM_SENT
/// confirmations of its own DMs, the DMs delivered to it live (each acknowledged with DM_ACK once recorded, as the
/// reference client acknowledges once it has printed it, PROTOCOL §11.2) and the CHATs relayed to it. It can also
/// send at a steady rate until its link ends, remembering everything it tried to send. For the crash tests, which
/// kill the server under it.
/// </summary>
internal sealed class RecordingClient : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<DmSent> _confirmed = [];
    private readonly List<Dm> _delivered = [];
    private readonly List<Chat> _relayed = [];
    private readonly List<ParleyMessage> _unexpected = [];
    private readonly List<string> _attempted = [];
    private readonly Pulse _pulse;
    private readonly CancellationTokenSource _linkEnded = new();
    private readonly Task _reading;

    /// <summary>Starts recording <paramref name="connection"/>'s events (anything read from them before is the caller's).</summary>
    public RecordingClient(ParleyConnection connection, Pulse pulse)
    {
        Connection = connection;
        _pulse = pulse;
        _reading = ReadAsync();
    }

    public ParleyConnection Connection { get; }

    /// <summary>Completes when the link has ended and everything it brought is recorded.</summary>
    public Task Ended => _reading;

    public IReadOnlyList<DmSent> Confirmed => Snapshot(_confirmed);

    public IReadOnlyList<Dm> Delivered => Snapshot(_delivered);

    public IReadOnlyList<Chat> Relayed => Snapshot(_relayed);

    /// <summary>Anything else the server sent (an ERROR, say): the crash tests expect none.</summary>
    public IReadOnlyList<ParleyMessage> Unexpected => Snapshot(_unexpected);

    /// <summary>The text of every DM or CHAT handed to the link, in order, whether or not it got through.</summary>
    public IReadOnlyList<string> Attempted => Snapshot(_attempted);

    /// <summary>
    /// Every <paramref name="interval"/>, sends the next <paramref name="burst"/> of <paramref name="next"/>(1), (2), …
    /// until the link ends or <paramref name="stop"/> is cancelled. The task never faults: a send to a dead server just ends it.
    /// </summary>
    public Task SendSteadilyAsync(TimeSpan interval, int burst, Func<int, ParleyMessage> next, CancellationToken stop) => Task.Run(async () =>
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, _linkEnded.Token);
        using var timer = new PeriodicTimer(interval);
        try
        {
            for (var n = 1; await timer.WaitForNextTickAsync(either.Token);)
            {
                for (var end = n + burst; n < end; n++)
                {
                    // Recorded before it leaves (anything stored must be in Attempted), announced once it has left.
                    var message = next(n);
                    lock (_gate)
                    {
                        _attempted.Add(message switch
                        {
                            Dm dm => dm.Message,
                            Chat chat => chat.Message,
                            _ => message.ToString(),
                        });
                    }

                    await Connection.SendAsync(message, either.Token);
                    _pulse.Raise();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The server was killed (or the test stopped us): nothing more can be sent on this link.
        }
    }, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _reading;
        _linkEnded.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in Connection.Events.ReadAllAsync())
            {
                switch (message)
                {
                    case DmSent sent:
                        Add(_confirmed, sent);
                        break;
                    case Dm dm:
                        Add(_delivered, dm);
                        await AcknowledgeAsync(dm);
                        break;
                    case Chat chat:
                        Add(_relayed, chat);
                        break;
                    default:
                        Add(_unexpected, message);
                        break;
                }
            }
        }
        finally
        {
            await _linkEnded.CancelAsync();
            _pulse.Raise();
        }
    }

    private async Task AcknowledgeAsync(Dm dm)
    {
        try
        {
            await Connection.SendAsync(new DmAck(dm.Seq ?? 0));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The link is going down; the DM stays undelivered on the server, as it should.
        }
    }

    private void Add<T>(List<T> list, T item)
    {
        lock (_gate)
        {
            list.Add(item);
        }

        _pulse.Raise();
    }

    private List<T> Snapshot<T>(List<T> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }
}

/// <summary>Raised whenever something a test waits for may have happened; the test re-checks its condition, with a timeout, never a sleep.</summary>
internal sealed class Pulse : IDisposable
{
    private readonly SemaphoreSlim _raised = new(0);

    public void Raise() => _raised.Release();

    public async Task UntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!condition())
        {
            try
            {
                await _raised.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{what} did not happen within {timeout.TotalSeconds} s");
            }
        }
    }

    public void Dispose() => _raised.Dispose();
}
