import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

/** `POST /admin/users/{externalUserId}/resolve`: the Capa userId an operator found for this signup. */
export class ResolveSignupDto {
  @ApiProperty({ format: 'uuid', description: "Capa's userId for this user", example: '9486244c-ff7d-4c22-9984-797179d7deaa' })
  @IsUUID()
  userId: string;
}
