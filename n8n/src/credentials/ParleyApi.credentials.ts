import type { ICredentialType, INodeProperties } from '../n8n-types.ts';

export class ParleyApi implements ICredentialType {
  name = 'parleyApi';
  displayName = 'Parley API';
  icon = 'file:parley.svg';
  properties: INodeProperties[] = [
    {
      displayName: 'Signing Secret',
      name: 'signingSecret',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      placeholder: 'whsec_…',
      description:
        "For a tool: the tool's secret (Tools page). For the conversation relay and callbacks: the tenant's n8n secret (Settings, n8n).",
    },
    {
      displayName: 'Previous Signing Secret',
      name: 'previousSigningSecret',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      placeholder: 'whsec_…',
      description:
        'After rotating the secret in Parley, paste the old one here until Parley stops signing with it; both are accepted meanwhile',
    },
    {
      displayName: 'Parley URL',
      name: 'parleyUrl',
      type: 'string',
      default: '',
      placeholder: 'https://<project>.supabase.co',
      description: "The Parley project's URL, for callbacks when a relay carries no callback_url",
    },
  ];
}
