import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUTH_METHODS, SIGNUP_STATUSES, USER_TYPES } from './signup.types';
import { KYC_STATUSES } from '../capa/capa-vocabulary';

export class KycDoc {
  @ApiProperty({ enum: KYC_STATUSES, description: "Set by Capa's KYC webhooks (or an operator's refresh)" }) status: string;
  @ApiProperty({ enum: ['KYC', 'KYB'], description: 'KYB for BUSINESS users, KYC otherwise' }) kind: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) updatedAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When the last verification link was issued' })
  linkIssuedAt: string | null;
}

class SignupErrorDoc {
  @ApiProperty({ example: 'BAD_REQUEST' }) code: string;
  @ApiProperty({ type: String, nullable: true, example: 'Provided email is not valid' }) message: string | null;
}

/** The mapping as documented in OpenAPI (the runtime type is SignupMapping). */
export class SignupMappingDoc {
  @ApiProperty({ example: 'user-8412' }) externalUserId: string;
  @ApiProperty({ type: String, nullable: true, description: "Capa's userId once CREATED", example: '9486244c-ff7d-4c22-9984-797179d7deaa' })
  userId: string | null;
  @ApiProperty({ enum: SIGNUP_STATUSES }) status: string;
  @ApiProperty({ enum: AUTH_METHODS }) method: string;
  @ApiProperty({ type: String, nullable: true }) identifier: string | null;
  @ApiProperty({ enum: USER_TYPES, nullable: true }) userType: string | null;
  @ApiProperty({ type: String, nullable: true }) alias: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({ type: SignupErrorDoc, description: "Capa's last error code and message" }) error?: SignupErrorDoc;
  @ApiProperty({ type: KycDoc, description: 'Identity verification' }) kyc: KycDoc;
}
