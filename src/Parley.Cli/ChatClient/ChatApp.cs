using System.Threading.Channels;
using Parley.Cli.Terminal;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Cli.ChatClient;

/// <summary>
/// The terminal client's state machine (seed 001 "Client Side State Diagram"; docs/PROTOCOL.md §7). Everything that
/// changes state — a typed line, a message from the server, a lost connection, a clock tick — arrives on one queue
/// and is handled on one task, so state needs no locks and events are printed in the order they happened.
/// The exact texts "Connected", "Chat started", "Chat ended" and "Correspondent unreachable" are the seed's.
/// </summary>
/// <remarks><paramref name="joinRoom"/> is the room joined at log-on (seed 004: a client is in the room), or null for none;
/// <paramref name="stateDirectory"/> keeps the contacts' trusted keys (issue #5), or null to remember them only until exit;
/// <paramref name="direct"/> is seed 000's terminal (issue #6); <paramref name="reconnect"/> how to log on again after the link
/// drops (issue #9), or null not to.</remarks>
internal sealed partial class ChatApp(IChatConsole console, ParleyClientOptions options, string? defaultUser, string? scriptPassword,
    string? joinRoom = Protocol.Rooms.Default, string? stateDirectory = null, bool direct = false, ReconnectPolicy? reconnect = null)
{
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Raised with the ID (as the server stores it) after each successful log-on; <c>parley chat</c> remembers the server then.</summary>
    public event Action<string>? LoggedOn;
    private ParleyConnection? _connection;
    private string? _sessionId;
    private string? _peer;
    private string? _lastEndedSessionId;
    private long _lastInput = Environment.TickCount64;
    private bool _quit;
    private bool _nextLineIsNewPassword;

    private bool InChat => _sessionId is not null;

    /// <summary>Queues a line as if the user had typed it first (<c>--logon</c>).</summary>
    public void QueueLine(string line) => _inbox.Writer.TryWrite(new InputLine(line));

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        UpdatePrompt();
        if (console.IsInteractive)
        {
            console.WriteLine("Parley chat. Type \"Log on\" to connect, /help for commands.");
        }

        // Quitting (/quit, EX, EXIT) stops the input and clock pumps too, so the program ends without waiting for EOF.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = PumpInputAsync(stop.Token);
        var ticking = TickAsync(stop.Token);
        try
        {
            await foreach (var item in _inbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // ReadAllAsync hands out what is queued before it looks at the token: a quit must not wait for a backlog.
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    await HandleAsync(item, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One event the client could not handle (a hostile server's, or a bug) must not end the program.
                    console.WriteLine($"Internal error, event ignored: {Display.Clean(e.Message)}");
                }

                if (_quit)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: fall through to log off.
        }

        if (_connection is not null)
        {
            await LogOffAsync().ConfigureAwait(false);
        }

        // The inbox is closed before the tries are stopped: a try that ends after this cannot post, and logs off its
        // own link (AttemptAsync); one that posted before is found below.
        _inbox.Writer.TryComplete();
        StopReconnecting();
        EndCall(program: true);
        while (_inbox.Reader.TryRead(out var left))
        {
            if (left is ReconnectDone { Connection: { } late })
            {
                await late.LogOffAsync().ConfigureAwait(false);
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(reading, ticking).ConfigureAwait(false);
        return 0;
    }

    private async Task HandleAsync(object item, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case InputLine line when _nextLineIsNewPassword:
                // Script mode's /passwd: this line is the new password, never a command and never echoed.
                _nextLineIsNewPassword = false;
                _lastInput = Environment.TickCount64;
                await ChangePasswordAsync(scriptPassword, line.Text, cancellationToken).ConfigureAwait(false);
                break;
            case InputLine line when _awaitingLogin:
                // Seed 000's "Login:": this line is the user ID.
                _awaitingLogin = false;
                _lastInput = Environment.TickCount64;
                await LogOnAsync(line.Text.Trim() is { Length: > 0 } id ? id : null, cancellationToken).ConfigureAwait(false);
                break;
            case InputLine line when _call is not null && !line.Text.TrimStart().StartsWith('/'):
                // In a direct call every line is for the peer (seed 000: "input() send()"); slash commands still work.
                _lastInput = Environment.TickCount64;
                SayInCall(line.Text);
                break;
            case InputLine line when Seed000 && _connection is { } connected && _call is null && _menuStep == Seed003Step.None
                && line.Text.Trim() is { Length: > 0 } destination && !destination.StartsWith('/'):
                // Seed 000's "Enter destination user ID:".
                _lastInput = Environment.TickCount64;
                await CallAsync(connected, destination).ConfigureAwait(false);
                if (_call is null)
                {
                    console.WriteLine("Enter destination user ID:");
                }

                break;
            case HangUp:
                EndCall();
                break;
            case IncomingCall incoming:
                OnIncomingCall(incoming);
                break;
            case CallReady ready:
                await OnCallReadyAsync(ready).ConfigureAwait(false);
                break;
            case CallNote note:
                OnCallNote(note);
                break;
            case CallLine callLine:
                OnCallLine(callLine);
                break;
            case InputLine line when _menuStep != Seed003Step.None:
                _lastInput = Environment.TickCount64;
                await OnMenuAnswerAsync(line.Text).ConfigureAwait(false);
                break;
            case InputLine line:
                _lastInput = Environment.TickCount64;
                await OnInputAsync(UserInput.Parse(line.Text, View), cancellationToken).ConfigureAwait(false);
                break;
            case EndOfInput:
                _quit = true;
                break;
            case ServerEvent e when ReferenceEquals(e.From, _connection):
                NoteFinalError(e.Message);
                if (!await OnMessagingEventAsync(e.From, e.Message).ConfigureAwait(false))
                {
                    await OnServerMessageAsync(e.Message).ConfigureAwait(false);
                }

                break;
            case LinkClosed closed when ReferenceEquals(closed.From, _connection):
                await LoseLinkAsync(closed.From, $"Disconnected from the server ({closed.From.CloseReason}).", mayResume: true).ConfigureAwait(false);
                break;
            case ReconnectDue due when _reconnecting is { } reconnection && ReferenceEquals(due.Wait, reconnection.Wait):
                TryReconnect(reconnection);
                break;
            case ReconnectDone done:
                await OnReconnectDoneAsync(done, cancellationToken).ConfigureAwait(false);
                break;
            case Tick when _reconnecting is { } reconnection:
                CheckIdleWhileReconnecting(reconnection);
                break;
            case Tick when _connection is { } c && Environment.TickCount64 - _lastInput > (long)c.ActivityTimeout.TotalMilliseconds:
                // Seed 001 step 7: the client tears down the TCP connection when the activity timer expires.
                EndChatLocally();
                await LogOffAsync().ConfigureAwait(false);
                console.WriteLine($"Logged off: no activity for {c.ActivityTimeout.TotalSeconds:0.#} s.");
                break;
            case Tick when _connection is { } c && _call is not null:
                await KeepListeningAsync(c).ConfigureAwait(false);
                break;
        }
    }

    private async Task OnServerMessageAsync(ParleyMessage message)
    {
        switch (message)
        {
            case ChatStarted started:
                _talkPeer = null; // an exclusive chat takes over the screen from a conversation view (a replay still ends in READ)
                _sessionId = started.SessionId;
                _peer = started.ClientId;
                console.WriteLine("Chat started");
                if (console.IsInteractive)
                {
                    console.WriteLine($"You are chatting with {started.ClientId}. Type \"End chat\" to finish.");
                }

                UpdatePrompt();
                break;
            case Unreachable:
                console.WriteLine("Correspondent unreachable");
                break;
            case Chat chat when chat.SessionId == _sessionId || chat.SessionId == _lastEndedSessionId:
                // A message the peer sent as we ended the chat crossed our END_REQUEST: show it rather than lose it.
                var from = chat.From ?? "?";
                if ((await OpenAsync(chat.Message, MessageKind.Chat, from, OwnId, chat.SessionId, IsRepeatedChat).ConfigureAwait(false)).Text is { } text)
                {
                    console.WriteLine(Display.Line(chat.SentAt, null, from, text));
                }

                break;
            case EndNotif end when end.SessionId == _sessionId:
                EndChatLocally();
                UpdatePrompt();
                break;
            case HistoryResp h:
                // Seed 001 "Chat History": <session_id> <from: sending client> <chat message>, after seed 004's time.
                var to = ClientIds.Comparer.Equals(h.ClientId, OwnId) ? h.With ?? "?" : OwnId;
                if ((await OpenAsync(h.Message, MessageKind.Chat, h.ClientId, to, h.SessionId, id => !_historyEnvelopes.Add(id)).ConfigureAwait(false)).Text is { } line)
                {
                    console.WriteLine($"{Display.Time(h.SentAt)} {h.SessionId} from: {h.ClientId} {Display.Clean(line)}");
                }

                break;
            case HistoryEnd end:
                _historyEnvelopes.Clear();
                console.WriteLine(end.Count switch
                {
                    0 => $"No history with {end.ClientId}",
                    1 => $"End of history with {end.ClientId} (1 message)",
                    _ => $"End of history with {end.ClientId} ({end.Count} messages)",
                });
                break;
            case ListResp list when !TryShowDirectMenuList(list):
                ShowDirectory(list);
                break;
            case PasswdOk:
                OnPasswordChanged();
                console.WriteLine("Password changed");
                break;
            case KeysChanged changed:
                await OnKeysChangedAsync(changed).ConfigureAwait(false);
                break;
            case Notice notice:
                // Issue #7: the operator's broadcast, tagged so that no user can pass for the server.
                console.WriteLine($"{Display.Time(notice.SentAt)} [server] {Display.Clean(notice.Text)}");
                break;
            case Error { Code: ErrorCodes.ShuttingDown or ErrorCodes.Kicked } error when _connection is { } connection:
                // The server closes the link right after these (issue #7): say why, and be logged off as after "Log off";
                // a server shutting down is most likely restarting, so the client logs on again (issue #9), a kicked one does not.
                console.WriteLine(Display.Clean(error.Text));
                await LoseLinkAsync(connection, "Logged off", mayResume: error.Code == ErrorCodes.ShuttingDown).ConfigureAwait(false);
                break;
            case Error error:
                console.WriteLine($"Error: {Display.Clean(error.Text)}");
                break;
        }
    }

    /// <summary>
    /// Forgets a link that has ended (or is about to): the client is logged off, a direct call goes on. With
    /// <paramref name="keepLogOn"/> the identity key and the key to log on again are kept, to reconnect.
    /// </summary>
    private async Task DropAsync(ParleyConnection connection, bool keepLogOn)
    {
        EndChatLocally();
        ForgetMessagingState(keepIdentity: keepLogOn);
        if (!keepLogOn)
        {
            ForgetLogOnKey();
        }

        _connection = null;
        await connection.DisposeAsync().ConfigureAwait(false);
        UpdatePrompt();
    }

    private void EndChatLocally()
    {
        if (InChat)
        {
            _lastEndedSessionId = _sessionId;
            _sessionId = null;
            _peer = null;
            console.WriteLine("Chat ended");
        }
    }

    private async Task LogOffAsync()
    {
        if (_connection is not { } connection)
        {
            return;
        }

        _connection = null;
        ForgetMessagingState();
        ForgetLogOnKey();
        await connection.LogOffAsync().ConfigureAwait(false);
        UpdatePrompt();
    }

    private void UpdatePrompt() => console.SetPrompt(_call is { } call ? $"{_connection?.ClientId ?? _reconnecting?.ClientId ?? "you"} to {call.Link.PeerId} (direct)> "
        : _reconnecting is { } reconnection ? $"{reconnection.ClientId} (reconnecting)> "
        : _connection is not { } c ? "> " : View switch
        {
            InputView.Chat => $"{c.ClientId} to {_peer}> ",
            InputView.Talk => $"{c.ClientId} dm {_talkPeer}> ",
            InputView.Room => $"{c.ClientId} {_room}> ",
            _ => $"{c.ClientId}> ",
        });

    private async Task PumpInputAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var line in console.ReadLinesAsync(cancellationToken).ConfigureAwait(false))
            {
                await _inbox.Writer.WriteAsync(new InputLine(line), cancellationToken).ConfigureAwait(false);
            }

            _inbox.Writer.TryWrite(new EndOfInput());
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    private async Task PumpEventsAsync(ParleyConnection connection)
    {
        await foreach (var message in connection.Events.ReadAllAsync().ConfigureAwait(false))
        {
            _inbox.Writer.TryWrite(new ServerEvent(connection, message));
        }

        _inbox.Writer.TryWrite(new LinkClosed(connection));
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false) && _inbox.Writer.TryWrite(new Tick()))
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record InputLine(string Text);

    private sealed record EndOfInput;

    private sealed record ServerEvent(ParleyConnection From, ParleyMessage Message);

    private sealed record LinkClosed(ParleyConnection From);

    private sealed record Tick;
}
