using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Seed 003's menu: "PM - public message to all active users", "DM - direct message to a single user", with the
/// seed's exact prompts ("Message:", "Select a user to send a message to:", "To:", "Enter message:", "Message sent").
/// </summary>
internal sealed partial class ChatApp
{
    private Seed003Step _menuStep;
    private string? _menuTo;

    /// <summary>Seed 003's menu flows take the next lines as answers, not commands.</summary>
    private enum Seed003Step
    {
        None,
        PublicMessage,
        DirectTo,
        DirectMessage,
    }

    private async Task OnSeed003MenuAsync(ParleyConnection connection, UserInput input)
    {
        switch (input)
        {
            case UserInput.PublicMenu:
                console.WriteLine("Message:");
                _menuStep = Seed003Step.PublicMessage;
                break;
            case UserInput.DirectMenu:
                // Seed 003: "send user list of active users to send message to", then "To:" once it has arrived.
                _menuStep = Seed003Step.DirectTo;
                await SendAsync(connection, new ListReq(OnlineOnly: true)).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Seed 003's menu answers: the PM text, the DM recipient, the DM text. An empty answer cancels.</summary>
    private async Task OnMenuAnswerAsync(string line)
    {
        var step = _menuStep;
        _menuStep = Seed003Step.None;
        if (_connection is not { } connection)
        {
            return;
        }

        if (line.Trim().Length == 0)
        {
            console.WriteLine("Cancelled");
            return;
        }

        switch (step)
        {
            // The JOIN sent at log-on may still be unanswered: the server handles it before this SAY (one link, in order).
            case Seed003Step.PublicMessage when !_rooms.Contains(Rooms.Default) && !_silentJoins.Contains(Rooms.Default):
                console.WriteLine($"You are not in {Rooms.Default}; type \"/join {Rooms.Default}\" first. Your message was not sent.");
                break;
            case Seed003Step.PublicMessage when IsTooLong(connection, line, encrypted: false):
                break;
            case Seed003Step.PublicMessage:
                // Room messages are relayed, not stored, so the server sends no receipt; a refusal arrives as an ERROR.
                if (await SendAsync(connection, new Say(Rooms.Default, line)).ConfigureAwait(false))
                {
                    console.WriteLine("Message sent");
                }

                break;
            case Seed003Step.DirectTo when !ClientIds.IsValid(line.Trim()):
                // Seed 003: "check validity of entered user"; the server checks that the account exists.
                console.WriteLine($"Error: {ClientIds.Rule}");
                break;
            case Seed003Step.DirectTo:
                _menuTo = line.Trim();
                console.WriteLine("Enter message:");
                _menuStep = Seed003Step.DirectMessage;
                break;
            case Seed003Step.DirectMessage:
                await SendDirectAsync(connection, _menuTo!, line, announce: true).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Seed 003's DM step 1: the list of active users, then "To:".</summary>
    private bool TryShowDirectMenuList(ListResp list)
    {
        if (_menuStep != Seed003Step.DirectTo)
        {
            return false;
        }

        console.WriteLine("Select a user to send a message to:");
        foreach (var user in list.Users.Where(u => u.Online))
        {
            console.WriteLine($"        {user.ClientId}");
        }

        console.WriteLine("To:");
        return true;
    }
}
