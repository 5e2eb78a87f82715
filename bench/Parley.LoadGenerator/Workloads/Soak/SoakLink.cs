using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// One log-on of one soak client: the <see cref="ParleyConnection"/>, a reader that accounts for everything the
/// server sends, and the requests still waiting for their answer. Answers come in request order (§5.1), so each kind
/// of answer is matched to the oldest request of its kind; an answer also proves the server handled every earlier
/// request, which is how a SAY, which gets none, is known to have been relayed (<see cref="RoomLedger"/>).
/// </summary>
internal sealed partial class SoakLink
{
    private readonly SoakWorld _world;
    private readonly int _index;
    private readonly Lock _gate = new();
    private readonly Dictionary<Type, Queue<PendingReply>> _pending = [];
    private readonly Queue<(long Order, SayRecord Say)> _unconfirmed = new();
    private readonly HashSet<string> _rooms = new(StringComparer.Ordinal);
    private readonly HashSet<string> _joining = new(StringComparer.Ordinal);
    private readonly HashSet<long> _dmsInFlight = [];
    private readonly Channel<(SoakKind Kind, ParleyMessage Message)> _answers = Channel.CreateUnbounded<(SoakKind, ParleyMessage)>(new() { SingleReader = true });
    private TaskCompletionSource? _dmsSent;
    private long _order;
    private volatile bool _closing;
    private Task _completion = Task.CompletedTask;

    public SoakLink(SoakWorld world, int index, ParleyConnection connection)
    {
        _world = world;
        _index = index;
        Connection = connection;
    }

    public ParleyConnection Connection { get; }

    public bool IsOpen => Connection.CloseReason is null;

    /// <summary>Completes when the link has ended and its reader has accounted for everything that arrived.</summary>
    public Task Completion => _completion;

    private string Id => _world.Ids[_index];

    public void Start() => _completion = Task.WhenAll(Task.Run(ReadAsync), Task.Run(AnswerAsync));

    /// <summary>Rooms whose JOINED has arrived and that no PART has left since.</summary>
    public string[] Rooms()
    {
        lock (_gate)
        {
            return [.. _rooms];
        }
    }

    /// <summary>Rooms neither joined nor being joined.</summary>
    public string[] RoomsToJoin()
    {
        lock (_gate)
        {
            return [.. SoakWorld.RoomNames.Where(r => !_rooms.Contains(r) && !_joining.Contains(r))];
        }
    }

    /// <summary>A message that gets no answer.</summary>
    public async Task SendAsync(SoakKind kind, ParleyMessage message, CancellationToken cancellationToken = default)
    {
        await Connection.SendAsync(message, cancellationToken).ConfigureAwait(false);
        _world.Counters.Counted(kind);
    }

    /// <summary>
    /// A request answered by one <typeparamref name="TReply"/>. Registered before it is sent, so the answer cannot
    /// arrive first. With <paramref name="wait"/>, returns what the answer's handler made of it (or throws at the timeout).
    /// </summary>
    public async Task<object?> RequestAsync<TReply>(SoakKind kind, object? state, Func<Task> send, bool wait, CancellationToken cancellationToken = default)
        where TReply : ParleyMessage
    {
        var pending = new PendingReply(state, wait ? new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously) : null);
        lock (_gate)
        {
            pending.Order = ++_order;
            QueueFor(typeof(TReply)).Enqueue(pending);
        }

        await send().ConfigureAwait(false);
        _world.Counters.Counted(kind);
        return pending.Done is null ? null : await pending.Done.Task.WaitAsync(SoakParameters.ReplyTimeout, cancellationToken).ConfigureAwait(false);
    }

    public Task<object?> RequestAsync<TReply>(SoakKind kind, ParleyMessage request, object? state, bool wait, CancellationToken cancellationToken = default)
        where TReply : ParleyMessage =>
        RequestAsync<TReply>(kind, state, () => Connection.SendAsync(request, cancellationToken), wait, cancellationToken);

    public Task JoinAsync(string room, bool wait = false, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _joining.Add(room);
        }

        return RequestAsync<Joined>(SoakKind.Join, new Join(room), room, wait, cancellationToken);
    }

    /// <summary>PART; the membership ends as it is sent: copies the server relays later are no longer owed (§11.7).</summary>
    public Task PartAsync(string room, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _rooms.Remove(room);
        }

        _world.Rooms.Left(_index, room, SoakClock.Now);
        return RequestAsync<Parted>(SoakKind.Part, new Part(room), room, wait: false, cancellationToken);
    }

    /// <summary>ROOMS; its answer is checked against the rooms joined when it was sent.</summary>
    public Task RoomsAsync(bool wait, CancellationToken cancellationToken = default) =>
        RequestAsync<RoomList>(SoakKind.Rooms, new RoomsReq(), Rooms(), wait, cancellationToken);

    public async Task SayAsync(string room, long n, CancellationToken cancellationToken = default)
    {
        var record = _world.Rooms.Saying(_index, room, n);
        lock (_gate)
        {
            _unconfirmed.Enqueue((++_order, record));
        }

        await SendAsync(SoakKind.Say, new Say(room, SoakBodies.Say(_index, n)), cancellationToken).ConfigureAwait(false);
    }

    public async Task DmAsync(int to, long id, CancellationToken cancellationToken = default)
    {
        _world.Dms.Sending(_index, to, id);
        lock (_gate)
        {
            _dmsInFlight.Add(id);
        }

        await SendAsync(SoakKind.Dm, new Dm(_world.Ids[to], SoakBodies.Dm(_index, id), id.ToString(CultureInfo.InvariantCulture)), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Waits until every DM sent on this link has its DM_SENT; false at the timeout.</summary>
    public async Task<bool> WaitForDmsSentAsync(CancellationToken cancellationToken)
    {
        Task sent;
        lock (_gate)
        {
            if (_dmsInFlight.Count == 0 || !IsOpen)
            {
                return true;
            }

            sent = (_dmsSent ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        try
        {
            await sent.WaitAsync(SoakParameters.ReplyTimeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>LOG_OFF: from here on the link's end is the soak's doing, not the server's.</summary>
    public async Task LogOffAsync()
    {
        _closing = true;
        _world.Counters.Counted(SoakKind.LogOff);
        await Connection.LogOffAsync().ConfigureAwait(false);
        await _completion.ConfigureAwait(false);
    }

    /// <summary>Sends DM_ACK and READ from their own task, so the reader never waits on a send.</summary>
    private async Task AnswerAsync()
    {
        await foreach (var (kind, message) in _answers.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await SendAsync(kind, message).ConfigureAwait(false);
            }
            catch (Exception e) when (IsLinkFailure(e))
            {
                return; // the reader records why the link ended
            }
        }
    }

    /// <summary>What a send throws when the link has just ended; the reader records why it ended.</summary>
    public static bool IsLinkFailure(Exception e) =>
        e is IOException or ObjectDisposedException or SocketException or InvalidOperationException or OperationCanceledException or ChannelClosedException
            or ParleyClientException { Failure: ClientFailure.ConnectionLost };

    private Queue<PendingReply> QueueFor(Type reply)
    {
        if (!_pending.TryGetValue(reply, out var queue))
        {
            _pending[reply] = queue = new Queue<PendingReply>();
        }

        return queue;
    }

    private sealed class PendingReply(object? state, TaskCompletionSource<object?>? done)
    {
        public long Order { get; set; }

        public object? State { get; } = state;

        public TaskCompletionSource<object?>? Done { get; } = done;
    }
}
