import { ANNOTATIONS, defineTool } from '../native/native-connector.definition.js';
import { input, output, USER_ID, USER_PROPS, userDetail, type SlackAnswer, type SlackUser } from './slack.schemas.js';

export interface GetUserArgs {
  readonly user: string;
}

/** GET https://slack.com/api/users.info — api.slack.com/methods/users.info */
export const getUser = defineTool<GetUserArgs>({
  name: 'slack_get_user',
  title: 'Get a Slack user',
  description:
    'Gets one Slack user by ID (the user field of messages and search matches): username, real and display name, title, email (with the users:read.email scope), ' +
    'time zone, status, and whether the account is a bot, an admin, or deactivated.',
  inputSchema: input({ user: USER_ID }, ['user']),
  outputSchema: output(USER_PROPS),
  annotations: ANNOTATIONS.read,
  async run(args, http) {
    const response = await http.get<SlackAnswer & { user: SlackUser }>('/users.info', { query: { user: args.user } });
    return userDetail(response.body.user);
  },
});
